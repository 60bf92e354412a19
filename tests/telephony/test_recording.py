"""The recording is one click from the controller's queue and from the score the manager
reads; the click goes to the recording the PBX keeps."""

import base64
import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from crm_sync.models import Call
from quality.models import CallScore
from telephony import recordings
from tests.telephony.conftest import (
    MANGO_KEY,
    ZADARMA_KEY,
    ZADARMA_SECRET,
    load,
    mango_post,
    zadarma_post,
)


def test_the_score_page_links_the_recording_and_the_link_plays_it(alpha, client):
    with tenancy.tenant_context(alpha.company):
        score = CallScore.objects.filter(company=alpha.company).select_related("call").first()
        Call.objects.filter(pk=score.call_id).update(
            recording_url="https://records.example.net/42.mp3"
        )
        manager = score.manager
    client.force_login(manager)
    page = client.get(reverse("quality-score-detail", args=[score.code])).content.decode()
    link = reverse("call-recording", args=[score.call.code])
    assert f'href="{link}"' in page

    played = client.get(link)
    assert played.status_code == 302 and played["Location"] == "https://records.example.net/42.mp3"
    client.force_login(alpha.managers[2] if manager != alpha.managers[2] else alpha.managers[1])
    assert client.get(link).status_code == 403  # another manager's call


def test_the_queue_links_the_suggested_calls_recording(alpha, client):
    with tenancy.tenant_context(alpha.company):
        Call.objects.filter(company=alpha.company).update(
            recording_url="https://records.example.net/any.mp3"
        )
    client.force_login(alpha.quality)
    page = client.get(reverse("quality-queue")).content.decode()
    assert re.search(r'class="recording" href="/calls/[0-9a-f-]+/recording/"', page)


def test_a_mango_recording_plays_through_a_freshly_signed_link(alpha, pbx, client):
    for event in load("mango")["outgoing_answered"]:
        mango_post(Client(), pbx["mango"], event)
    with tenancy.tenant_context(alpha.company):
        call = Call.objects.get(company=alpha.company, pbx_call_id="MjkxMDU0Nzk2Mzo0MDE=")
    client.force_login(alpha.admin)
    played = client.get(reverse("call-recording", args=[call.code]))
    assert played.status_code == 302
    url = urlsplit(played["Location"])
    assert url.netloc == "app.mango-office.ru"
    _, _vpbx, _q, _r, _link, recording, action, key, _expires, sign = url.path.split("/")
    assert (recording, action, key) == ("MToxMDA1NzU5MzozMDk6Mjk4OTg3NjQwOjE=", "play", MANGO_KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", sign)


class FakeZadarmaApi(BaseHTTPRequestHandler):
    """api.zadarma.com's /v1/pbx/record/request/ on the loopback: it checks the signature as
    the API's «Авторизация» defines it, over the query as the vendor's clients build it
    (zadarma/user-api-v1 Client::call: the params with format=json, sorted, http_build_query)."""

    requests: list[tuple[str, dict[str, str], str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        type(self).requests.append((url.path, params, self.headers.get("Authorization", "")))
        query = urlencode(sorted(params.items()))
        text = url.path + query + hashlib.md5(query.encode()).hexdigest()
        digest = hmac.new(ZADARMA_SECRET.encode(), text.encode(), hashlib.sha1).hexdigest()
        expected = f"{ZADARMA_KEY}:{base64.b64encode(digest.encode()).decode()}"
        if self.headers.get("Authorization") != expected or params.get("format") != "json":
            return self._answer(401, {"status": "error", "message": "Not authorized"})
        self._answer(200, {
            "status": "success", "link": f"https://api.zadarma.com/rec/{params['call_id']}.mp3",
            "lifetime_till": "2026-12-02 09:10:00",
        })  # fmt: skip

    def _answer(self, status: int, body: dict) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def test_a_zadarma_recording_plays_through_a_signed_record_request(alpha, pbx, client, monkeypatch):
    FakeZadarmaApi.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeZadarmaApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setattr(recordings, "ZADARMA_API", {"zadarma": api, "novofon": api})
    try:
        for data in load("zadarma")["incoming_answered"]:
            assert zadarma_post(Client(), pbx["zadarma"], data).status_code == 200
        with tenancy.tenant_context(alpha.company):
            call = Call.objects.get(company=alpha.company, pbx_call_id__startswith="in_9b2d")
        client.force_login(alpha.admin)
        played = client.get(reverse("call-recording", args=[call.code]))
    finally:
        server.shutdown()
        server.server_close()
    assert played.status_code == 302
    assert played["Location"] == "https://api.zadarma.com/rec/1795123800.4187.mp3"
    [(path, params, _authorization)] = FakeZadarmaApi.requests
    assert path == "/v1/pbx/record/request/"
    # The recording's id is NOTIFY_END's call_id_with_rec; the link lives 180 s to 60 days.
    assert params["call_id"] == "1795123800.4187"
    assert 180 <= int(params["lifetime"]) <= 5184000
