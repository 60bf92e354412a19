"""Each PBX's documented webhooks (tests/telephony/payloads name the pages they follow):
taken and merged into one call per call, forged and replayed requests refused, the vendor
answered as it expects."""

import datetime
from decimal import Decimal

from django.test import Client

from accounts import tenancy
from crm_sync import services as crm_services
from crm_sync.models import Call
from reports.models import ImportedFigure
from telephony.models import PBXEvent
from tests.telephony.conftest import (
    load,
    mango_post,
    uis_post,
    zadarma_post,
    zadarma_signature,
)

MSK = datetime.timezone(datetime.timedelta(hours=3))


def calls_of(cast) -> dict[str, Call]:
    with tenancy.tenant_context(cast.company):
        found = Call.objects.filter(company=cast.company, source="telephony").exclude(
            pbx_call_id=""
        )
        return {c.pbx_call_id: c for c in found.select_related("manager", "client")}


def events_count(cast) -> int:
    with tenancy.tenant_context(cast.company):
        # The cast's own PBX (Novofon, tests/conftest.py) sent one event of its own.
        return PBXEvent.objects.filter(company=cast.company).exclude(call_id="cast-1").count()


def test_mango_call_events_summary_and_recording_make_one_answered_call(alpha, pbx):
    client = Client()
    for event in load("mango")["outgoing_answered"]:
        response = mango_post(client, pbx["mango"], event)
        assert response.status_code == 200 and response.content == b""  # Mango's bare 200

    [call] = calls_of(alpha).values()
    assert call.pbx_call_id == "MjkxMDU0Nzk2Mzo0MDE="
    assert call.manager == alpha.managers[0]  # extension 101
    assert call.direction == "out" and call.answered and call.duration == 180
    assert call.started_at == datetime.datetime(2026, 12, 1, 10, 0, tzinfo=MSK)
    assert call.phone == "79125550101" and call.client is not None
    assert call.recording_url == "mango:MToxMDA1NzU5MzozMDk6Mjk4OTg3NjQwOjE="


def test_mango_missed_incoming_call_is_not_answered(alpha, pbx):
    for event in load("mango")["incoming_missed"]:
        assert mango_post(Client(), pbx["mango"], event).status_code == 200
    [call] = calls_of(alpha).values()
    assert call.direction == "in" and not call.answered and call.duration == 0
    assert call.manager == alpha.managers[0]


def test_a_forged_mango_request_is_refused_and_changes_nothing(alpha, pbx):
    summary = load("mango")["outgoing_answered"][3]
    response = mango_post(Client(), pbx["mango"], summary, salt="somebody-elses-salt")
    assert response.status_code == 403
    assert calls_of(alpha) == {} and events_count(alpha) == 0


def test_a_replayed_request_changes_nothing(alpha, pbx):
    summary = load("mango")["outgoing_answered"][3]
    assert mango_post(Client(), pbx["mango"], summary).status_code == 200
    with tenancy.tenant_context(alpha.company):
        Call.objects.filter(company=alpha.company).update(duration=7)  # the call, edited since
    again = mango_post(Client(), pbx["mango"], summary)
    assert again.status_code == 200  # what Mango expects; a retry must not stop its sending
    assert events_count(alpha) == 1
    assert [c.duration for c in calls_of(alpha).values()] == [7]  # not written again


def test_a_request_older_than_the_window_is_refused(alpha, pbx, monkeypatch):
    from telephony import services

    monkeypatch.setattr(
        services, "_now", lambda: datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
    )
    summary = load("mango")["outgoing_answered"][3]
    assert mango_post(Client(), pbx["mango"], summary).status_code == 403
    assert calls_of(alpha) == {} and events_count(alpha) == 0


def test_zadarma_echoes_its_url_check_and_merges_start_answer_end(alpha, pbx):
    check = Client().get(pbx["zadarma"], {"zd_echo": "f1e2d3c4"})
    assert check.status_code == 200 and check.content == b"f1e2d3c4"

    for data in load("zadarma")["incoming_answered"]:
        assert zadarma_post(Client(), pbx["zadarma"], data).status_code == 200

    [call] = calls_of(alpha).values()
    assert call.manager == alpha.managers[1] and call.direction == "in"
    assert call.answered and call.duration == 95
    # «2026-12-01 23:30:00» on the company's clock (Moscow), not the server's.
    assert call.started_at == datetime.datetime(2026, 12, 1, 20, 30, tzinfo=datetime.UTC)
    assert call.recording_url == "zadarma:1795123800.4187"


def test_zadarma_unanswered_outgoing_call_and_a_forged_signature(alpha, pbx):
    start, end = load("zadarma")["outgoing_after_midnight_unanswered"]
    forged = Client().post(
        pbx["zadarma"], end, headers={"Signature": zadarma_signature(end, "guessed")}
    )
    assert forged.status_code == 403 and calls_of(alpha) == {}
    unsigned = Client().post(pbx["zadarma"], end)
    assert unsigned.status_code == 403 and calls_of(alpha) == {}

    for data in (start, end):
        assert zadarma_post(Client(), pbx["zadarma"], data).status_code == 200
    [call] = calls_of(alpha).values()
    assert call.direction == "out" and not call.answered and call.duration == 0
    assert call.phone == "79125550104"


def test_sipuni_gets_its_json_reply_and_one_call(alpha, pbx):
    for data in load("sipuni")["outgoing_answered"]:
        response = Client().get(pbx["sipuni"], data)  # Sipuni sends GET or POST
        assert response.status_code == 200 and response.json() == {"success": True}
    [call] = calls_of(alpha).values()
    # src_num «012345201» is the account's number and the extension: short_src_num is 201.
    assert call.manager == alpha.managers[2] and call.direction == "out"
    assert call.answered and call.duration == 120
    assert call.recording_url.startswith("https://sipuni.com/api/crm/record?")


def test_sipuni_incoming_call_through_a_scenario_goes_to_who_answered(alpha, pbx):
    for data in load("sipuni")["incoming_answered_through_scenario"]:
        assert Client().post(pbx["sipuni"], data).json() == {"success": True}
    [call] = calls_of(alpha).values()
    # The call's dst is the company's number; the employee is last_called (and the
    # answering leg's short_dst_num).
    assert call.manager == alpha.managers[2] and call.direction == "in"
    assert call.answered and call.duration == 75  # from the answer at +10 s to the end at +85 s
    assert call.phone == "79125550107"
    assert call.started_at == datetime.datetime(2026, 12, 1, 13, 20, tzinfo=MSK)


def test_a_wrong_or_revoked_key_in_the_url_is_a_404(alpha, pbx):
    data = load("sipuni")["outgoing_answered"][2]
    wrong = pbx["sipuni"].replace("/sipuni/", "/uis/")  # another vendor's URL, same key
    assert (
        Client()
        .post(wrong.replace(wrong.split("/")[-2], "1.notakeyatallnotakeyatall"), data)
        .status_code
        == 404
    )
    with tenancy.tenant_context(alpha.company):
        from telephony import services
        from telephony.models import PBXConnection

        connection = PBXConnection.objects.get(company=alpha.company, vendor="sipuni")
        services.connection_delete(connection=connection, actor=alpha.admin)
    assert Client().post(pbx["sipuni"], data).status_code == 404
    assert calls_of(alpha) == {}


def test_uis_answered_and_lost_calls(alpha, pbx):
    for data in load("uis")["incoming_answered"] + load("uis")["incoming_lost"]:
        assert uis_post(Client(), pbx["uis"], data).status_code == 200
    calls = calls_of(alpha)
    answered, lost = calls["2871650934"], calls["2871651200"]
    assert answered.manager == alpha.managers[2]  # employee_id 7701 is the SIP login
    assert answered.answered and answered.duration == 240
    assert answered.recording_url.startswith("https://app.uiscom.ru/")
    assert not lost.answered and lost.duration == 0


def test_the_days_figures_equal_the_hand_computed_table(alpha, pbx):
    """Every recorded call of the four PBXs, and the figures of each manager's day."""
    payloads = {name: load(name) for name in ("mango", "zadarma", "sipuni", "uis")}
    for events in payloads["mango"].values():
        for event in events if isinstance(events, list) else []:
            mango_post(Client(), pbx["mango"], event)
    for events in payloads["zadarma"].values():
        for data in events if isinstance(events, list) else []:
            zadarma_post(Client(), pbx["zadarma"], data)
    for events in payloads["sipuni"].values():
        for data in events if isinstance(events, list) else []:
            Client().post(pbx["sipuni"], data)
    for events in payloads["uis"].values():
        for data in events if isinstance(events, list) else []:
            uis_post(Client(), pbx["uis"], data)

    codes = ("calls", "incoming_calls", "long_calls", "talk_time", "missed_calls")
    # By hand from the payloads (long calls from 15 s; days on Moscow's clock):
    expected = {
        # Mango: out 10:00 talked 180 s; in 11:00 missed.
        (0, "2026-12-01"): (1, 1, 1, 180, 1),
        # Zadarma: in 23:30 talked 95 s; out at 00:10 the next day, not answered.
        (1, "2026-12-01"): (0, 1, 1, 95, 0),
        (1, "2026-12-02"): (1, 0, 0, 0, 0),
        # Sipuni: out 13:00 talked 120 s, in 13:10 missed, in 13:20 talked 75 s; UIS: in 15:00
        # 240 s, in 16:00 lost.
        (2, "2026-12-01"): (1, 4, 3, 435, 2),
    }
    with tenancy.tenant_context(alpha.company):
        assert alpha.company.long_call_seconds == 15
        for (index, day), figures in expected.items():
            manager = alpha.managers[index]
            date = datetime.date.fromisoformat(day)
            got = crm_services.day_figures(company=alpha.company, manager=manager, day=date)
            assert tuple(got[code] for code in codes) == tuple(map(Decimal, figures)), (index, day)
            stored = dict(
                ImportedFigure.objects.filter(
                    company=alpha.company, manager=manager, date=date, kpi__code__in=codes
                ).values_list("kpi__code", "value")
            )
            # What the report form prefills: the same figures, for the KPIs the company keeps.
            assert stored and all(
                stored[code] == Decimal(figures[codes.index(code)]) for code in stored
            ), (index, day, stored)
