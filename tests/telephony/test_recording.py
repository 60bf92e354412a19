"""The recording is one click from the controller's queue and from the score the manager
reads; the click goes to the recording the PBX keeps."""

import re
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from crm_sync.models import Call
from quality.models import CallScore
from tests.telephony.conftest import MANGO_KEY, load, mango_post


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
