"""An SMTP sink on loopback: what the app sends over SMTP, kept for the test to read.

Enough of RFC 5321 for smtplib (Django's SMTP backend): EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT; no TLS, no authentication (the production topology runs with EMAIL_USE_TLS off
and no EMAIL_USER on loopback).
"""

import asyncio
import contextlib
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        self.port = 0

        async def serve() -> None:
            server = await asyncio.start_server(self._session, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                with contextlib.suppress(asyncio.CancelledError):  # close()
                    await server.serve_forever()

        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(serve(),), daemon=True
        )
        self._thread.start()
        started.wait(10)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await reply("220 sink ESMTP")
        try:
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    await reply("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8")
                elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                    await reply("250 OK")
                elif verb == "DATA":
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while (data := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        # Dot-stuffing undone (RFC 5321 4.5.2).
                        lines.append(data[1:] if data.startswith(b"..") else data)
                    with self._lock:
                        self.messages.append(message_from_bytes(b"".join(lines), policy=default))
                    await reply("250 OK: queued")
                elif verb == "QUIT":
                    await reply("221 Bye")
                    break
                else:
                    await reply("502 Command not implemented")
        finally:
            writer.close()

    def read_outbox(self, count: int = 1, timeout: float = 30) -> list[EmailMessage]:
        """Every message received so far, waiting up to `timeout` until there are `count`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                received = list(self.messages)
            if len(received) >= count or time.monotonic() > deadline:
                return received
            time.sleep(0.2)

    def close(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=5)
