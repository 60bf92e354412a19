"""The worker's mail backend in tests: files, as Django's, and a refusal on demand.

A test writes `<address>.refuse` into the mail directory holding how many more times the
"server" refuses that recipient; each refusal counts it down, as a server that is down for
a while, or always refuses (a large number), would.

Each connection writes a file of its own: Django names it by the second and the backend's
id(), which a connection opened in the same second can reuse, appending a second message
to the first one's file.
"""

import os
import smtplib
import uuid
from pathlib import Path

from django.core.mail.backends import filebased


class EmailBackend(filebased.EmailBackend):
    def __init__(self, *, file_path: str | None = None, **kwargs: object) -> None:
        super().__init__(file_path=file_path or os.environ["EMAIL_FILE_PATH"], **kwargs)

    def send_messages(self, email_messages: list) -> int:
        for message in email_messages:
            for address in message.recipients():
                marker = Path(self.file_path) / f"{address}.refuse"
                if marker.exists() and int(marker.read_text() or 0) > 0:
                    marker.write_text(str(int(marker.read_text()) - 1))
                    raise smtplib.SMTPRecipientsRefused({address: (550, b"Mailbox unavailable")})
        return super().send_messages(email_messages)

    def _get_filename(self) -> str:
        if self._fname is None:
            self._fname = os.path.join(self.file_path, f"{uuid.uuid4().hex}.log")
        return self._fname
