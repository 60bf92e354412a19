"""Outgoing webhooks: signed deliveries to a real receiver on loopback, retries with back-off
that keep the order, events fired by the real services, refusal of inside addresses, and
each company's subscriptions out of the others' sight (row-level security)."""

import datetime
import hashlib
import hmac
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import tenancy
from crm_sync import services as crm_services
from crm_sync.models import PipelineStage
from kpi import services as kpi_services
from kpi.models import KPI
from reports import services as report_services
from reports.models import DailyReport
from rollups import services as rollup_services
from tests.conftest import Cast
from tests.reports.conftest import FIGURES, working_day_before
from webhooks import services, tasks
from webhooks.models import Delivery, Subscription


class Receiver:
    """A webhook receiver on 127.0.0.1: records each POST, answers the next status queued."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"x" * 5000 if status >= 500 else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?from=salesdesk"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


def verified(secret: str, headers: dict, body: bytes) -> bool:
    """The docs' check (docs/api.md, "Verifying a delivery"), literally."""
    timestamp = headers["X-Salesdesk-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Salesdesk-Signature"])


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    made = Receiver()
    yield made
    made.server.shutdown()
    made.server.server_close()


def admin_api(cast: Cast) -> Client:
    return Client(headers={"Authorization": f"Token {cast.api_key}"})


def subscribe(cast: Cast, url: str, events: list[str]) -> dict:
    made = admin_api(cast).post(
        reverse("api-webhook-list"), {"url": url, "events": events}, "application/json"
    )
    assert made.status_code == 201, made.content
    return made.json()


def subscription_of(cast: Cast, made: dict) -> Subscription:
    with tenancy.tenant_context(cast.company):
        return Subscription.objects.get(code=made["code"])


def deliver(cast: Cast, subscription: Subscription, now: datetime.datetime | None = None) -> None:
    tasks.deliver(cast.company.pk, subscription.pk, now.isoformat() if now else None)


def deliveries(cast: Cast, subscription: Subscription) -> list[Delivery]:
    with tenancy.tenant_context(cast.company):
        return list(Delivery.objects.filter(subscription=subscription).order_by("sequence"))


def test_a_filed_report_goes_to_the_receiver_signed(alpha: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["report.filed", "report.corrected"])
    assert len(made["secret"]) == 64
    listed = admin_api(alpha).get(reverse("api-webhook-list")).json()
    assert "secret" not in listed[-1] and listed[-1]["url"] == receiver.url
    subscription = subscription_of(alpha, made)
    manager = alpha.managers[1]
    with tenancy.tenant_context(alpha.company):
        day = working_day_before(alpha.company.today(), alpha)
        report_services.report_submit(
            company=alpha.company, manager=manager, day=day, values=FIGURES, actor=manager
        )
    deliver(alpha, subscription)
    [got] = receiver.received
    headers, body = got["headers"], got["body"]
    assert verified(made["secret"], headers, body)
    assert not verified("another secret", headers, body)
    assert headers["X-Salesdesk-Event"] == "report.filed"
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == f"127.0.0.1:{receiver.server.server_port}"
    event = json.loads(body)
    assert event["event"] == "report.filed" and event["sequence"] == 1
    data = event["data"]
    assert data["manager"] == {"code": str(manager.code), "name": manager.get_full_name()}
    assert data["date"] == day.isoformat() and data["version"] == 1
    assert data["values"]["calls"] == "60" and data["values"]["talk_time"] == "5400"
    [delivery] = deliveries(alpha, subscription)
    assert headers["X-Salesdesk-Delivery"] == str(delivery.code)
    assert str(delivery.event_id) == event["id"]
    assert delivery.state == "delivered" and delivery.attempts == 1
    assert delivery.last_status == 200 and delivery.delivered_at


def test_a_source_settling_a_filed_reports_figure_is_a_correction(alpha: Cast, receiver: Receiver):
    """A filed day's figure of record moved by the telephony (an import settling the day) or
    a figure a source settles into the report is `report.corrected` too, with `by` null."""
    made = subscribe(alpha, receiver.url, ["report.corrected"])
    subscription = subscription_of(alpha, made)
    manager = alpha.managers[1]
    with tenancy.tenant_context(alpha.company):
        calls = KPI.objects.get(company=alpha.company, code="calls")
        kpi_services.kpi_update(kpi=calls, actor=alpha.admin, record=KPI.Record.SOURCE)
        day = working_day_before(alpha.company.today(), alpha)
        filed = report_services.report_submit(
            company=alpha.company, manager=manager, day=day, values=FIGURES, actor=manager
        ).report
        for number in (1, 2):
            crm_services.call_upsert(company=alpha.company, source="telephony", data=(
                crm_services.CallData(
                    external_id=f"settle-{number}", direction="out", duration=30,
                    started_at=alpha.company.day_start(day) + datetime.timedelta(hours=10),
                    answered=False, manager=manager, client=None,
                )
            ))  # fmt: skip
        leads = KPI.objects.get(company=alpha.company, code="leads")
        report_services.report_value_settle(
            company=alpha.company, manager=manager, day=day, kpi=leads, value=Decimal(5),
            source="quality", reason="сверено",
        )  # fmt: skip
    deliver(alpha, subscription)
    events = receiver.events()
    assert [e["event"] for e in events] == ["report.corrected"] * 3
    assert [e["data"]["values"]["calls"] for e in events] == ["1", "2", "2"]
    assert [e["data"]["values"]["leads"] for e in events] == ["4", "4", "5"]
    assert all(e["data"]["report"] == str(filed.code) and e["data"]["by"] is None for e in events)
    assert [e["data"]["version"] for e in events] == [1, 1, 2]
    assert events[2]["data"]["reason"] == "сверено"


def test_a_500_is_retried_after_the_back_off_and_a_later_event_waits(
    alpha: Cast, receiver: Receiver
):
    made = subscribe(alpha, receiver.url, ["report.filed", "report.corrected"])
    subscription = subscription_of(alpha, made)
    manager = alpha.managers[1]
    receiver.statuses = [500]
    with tenancy.tenant_context(alpha.company):
        day = working_day_before(alpha.company.today(), alpha)
        report_services.report_submit(
            company=alpha.company, manager=manager, day=day, values=FIGURES, actor=manager
        )
    start = timezone.now()
    deliver(alpha, subscription, start)
    [first] = deliveries(alpha, subscription)
    assert first.state == "pending" and first.attempts == 1 and first.last_status == 500
    assert len(first.last_error) == 300  # an excerpt of the 5000-byte answer, not all of it
    assert first.next_attempt_at == start + datetime.timedelta(seconds=60)
    with tenancy.tenant_context(alpha.company):
        report_services.report_submit(
            company=alpha.company, manager=manager, day=day, version=1, actor=manager,
            values={**FIGURES, "calls": "61"},
        )  # fmt: skip
    deliver(alpha, subscription, start + datetime.timedelta(seconds=30))
    assert len(receiver.received) == 1  # the correction waits behind the report being retried
    tasks.sweep((start + datetime.timedelta(seconds=30)).isoformat())
    assert len(receiver.received) == 1
    deliver(alpha, subscription, start + datetime.timedelta(seconds=61))
    assert [e["event"] for e in receiver.events()] == [
        "report.filed",
        "report.filed",
        "report.corrected",
    ]
    assert [e["sequence"] for e in receiver.events()] == [1, 1, 2]
    ids = [r["headers"]["X-Salesdesk-Delivery"] for r in receiver.received]
    assert ids[0] == ids[1] != ids[2]  # a retry is the same delivery
    assert receiver.events()[2]["data"]["values"]["calls"] == "61"
    assert all(verified(made["secret"], r["headers"], r["body"]) for r in receiver.received)
    assert [(d.state, d.attempts) for d in deliveries(alpha, subscription)] == [
        ("delivered", 2),
        ("delivered", 1),
    ]


def test_after_every_back_off_a_delivery_fails_and_no_longer_holds_the_next(
    alpha: Cast, receiver: Receiver
):
    made = subscribe(alpha, receiver.url, ["month.closed"])
    subscription = subscription_of(alpha, made)
    receiver.statuses = [503] * len(services.BACKOFF) + [503]
    with tenancy.tenant_context(alpha.company):
        for month in ("2026-01", "2026-02"):
            services.emit(company=alpha.company, event="month.closed", payload={"month": month})
    moment = timezone.now()
    for wait in (0, *services.BACKOFF):
        moment += datetime.timedelta(seconds=wait)
        deliver(alpha, subscription, moment)
    first, second = deliveries(alpha, subscription)
    assert (first.state, first.attempts, first.next_attempt_at) == ("failed", 6, None)
    assert (second.state, second.attempts) == ("delivered", 1)
    assert [e["data"]["month"] for e in receiver.events()] == ["2026-01"] * 6 + ["2026-02"]


def test_several_events_arrive_in_sequence_order(alpha: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["month.closed"])
    subscription = subscription_of(alpha, made)
    with tenancy.tenant_context(alpha.company):
        for number in range(1, 6):
            services.emit(
                company=alpha.company, event="month.closed", payload={"month": f"2026-0{number}"}
            )
    deliver(alpha, subscription)
    events = receiver.events()
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["data"]["month"] for e in events] == [f"2026-0{n}" for n in range(1, 6)]
    assert len({r["headers"]["X-Salesdesk-Delivery"] for r in receiver.received}) == 5


def test_month_closed_and_deal_won_come_from_their_services_once(alpha: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["month.closed", "deal.won"])
    subscription = subscription_of(alpha, made)
    with tenancy.tenant_context(alpha.company):
        last_month = (alpha.company.today().replace(day=1) - datetime.timedelta(days=1)).replace(
            day=1
        )
        report_services.month_close(company=alpha.company, month=last_month, actor=alpha.head)
        report_services.month_close(company=alpha.company, month=last_month, actor=alpha.head)
        won = PipelineStage.objects.filter(company=alpha.company, kind="won").first()
        data = crm_services.DealData(
            external_id="hook-1", stage=won, title="Поставка", manager=alpha.managers[0],
            created_at=timezone.now() - datetime.timedelta(days=2), amount=Decimal(90000),
        )  # fmt: skip
        crm_services.deal_upsert(company=alpha.company, source="file", data=data)
        data.amount = Decimal(95000)  # a won deal saved again is not won again
        crm_services.deal_upsert(company=alpha.company, source="file", data=data)
    deliver(alpha, subscription)
    events = receiver.events()
    assert [e["event"] for e in events] == ["month.closed", "deal.won"]
    assert events[0]["data"]["month"] == f"{last_month:%Y-%m}"
    assert events[0]["data"]["by"]["code"] == str(alpha.head.code)
    assert events[1]["data"]["amount"] == "90000.00"
    assert events[1]["data"]["manager"]["code"] == str(alpha.managers[0].code)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "https://"),
        ("https://127.0.0.1/x", "внутреннюю сеть"),
        ("https://localhost:8443/x", "внутреннюю сеть"),
        ("https://10.1.2.3/x", "внутреннюю сеть"),
        ("https://192.168.0.10/x", "внутреннюю сеть"),
        ("https://169.254.169.254/latest/meta-data", "внутреннюю сеть"),
        ("https://[::1]/x", "внутреннюю сеть"),
        ("https://[::ffff:10.0.0.1]/x", "внутреннюю сеть"),
        ("https://user:pw@hooks.example.com/x", "логин"),
    ],
)
def test_an_inside_address_is_refused(alpha: Cast, url: str, message: str):
    refused = admin_api(alpha).post(
        reverse("api-webhook-list"), {"url": url, "events": ["deal.won"]}, "application/json"
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "invalid" and message in body["fields"]["url"][0]
    with tenancy.tenant_context(alpha.company):
        assert not Subscription.objects.filter(url=url).exists()


def test_an_address_that_turns_private_is_not_sent_to(alpha: Cast, receiver: Receiver, settings):
    made = subscribe(alpha, receiver.url, ["month.closed"])
    subscription = subscription_of(alpha, made)
    with tenancy.tenant_context(alpha.company):
        services.emit(company=alpha.company, event="month.closed", payload={"month": "2026-01"})
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    deliver(alpha, subscription)
    assert receiver.received == []
    [delivery] = deliveries(alpha, subscription)
    assert delivery.state == "pending" and delivery.last_status is None
    assert "https://" in delivery.last_error


def test_a_manager_may_not_subscribe_and_english_messages(
    client, alpha: Cast, receiver: Receiver, settings
):
    client.force_login(alpha.managers[0])
    refused = client.post(
        reverse("api-webhook-list"),
        {"url": receiver.url, "events": ["deal.won"]},
        "application/json",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    english = admin_api(alpha).post(
        reverse("api-webhook-list"),
        {"url": "https://127.0.0.1/x", "events": ["deal.won"]},
        "application/json",
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 400
    assert english.json()["fields"]["url"] == [
        "The address leads into an internal network (a local or private address): not allowed."
    ]


def test_a_company_sees_only_its_own_subscriptions(alpha: Cast, beta: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["deal.won"])
    seen = admin_api(beta).get(reverse("api-webhook-list")).json()
    assert made["code"] not in [row["code"] for row in seen]
    for method in ("get", "patch", "delete"):
        answer = getattr(admin_api(beta), method)(
            reverse("api-webhook-detail", args=[made["code"]]), {}, "application/json"
        )
        assert answer.status_code == 404, method
    with tenancy.tenant_context(beta.company), connection.cursor() as cursor:
        # No filter of ours: the database itself hides alpha's rows from beta.
        cursor.execute("SELECT company_id FROM webhooks_subscription")
        assert {row[0] for row in cursor.fetchall()} == {beta.company.pk}
        cursor.execute("SELECT company_id FROM webhooks_delivery")
        assert {row[0] for row in cursor.fetchall()} == {beta.company.pk}


def test_an_admin_pauses_changes_and_deletes_a_subscription(alpha: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["deal.won"])
    item = reverse("api-webhook-detail", args=[made["code"]])
    paused = admin_api(alpha).patch(
        item, {"active": False, "events": ["deal.won", "month.closed"]}, "application/json"
    )
    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert paused.json()["events"] == ["deal.won", "month.closed"]
    with tenancy.tenant_context(alpha.company):
        services.emit(company=alpha.company, event="month.closed", payload={"month": "2026-01"})
    log = admin_api(alpha).get(reverse("api-webhook-deliveries", args=[made["code"]]))
    assert log.status_code == 200 and log.json() == []
    assert admin_api(alpha).delete(item).status_code == 204
    assert admin_api(alpha).get(item).status_code == 404


def test_a_manager_at_risk_is_announced_once_a_month(alpha: Cast, receiver: Receiver):
    made = subscribe(alpha, receiver.url, ["manager.at_risk"])
    subscription = subscription_of(alpha, made)
    manager = alpha.managers[0]
    with tenancy.tenant_context(alpha.company):
        today = alpha.company.today()
        calls = KPI.objects.get(company=alpha.company, code="calls")
        kpi_services.plan_set(
            company=alpha.company, kpi=calls, start=today, value=Decimal(300_000),
            manager=manager,
        )  # fmt: skip
        day = working_day_before(today, alpha)
        # The cast files the manager's report of yesterday: on a Tuesday to Friday that is
        # this day, and the figures go in as its correction.
        filed = DailyReport.objects.filter(company=alpha.company, manager=manager, date=day)
        report_services.report_submit(
            company=alpha.company, manager=manager, day=day, values=FIGURES, actor=manager,
            confirmed=True, version=filed[0].version if filed else 0,
        )  # fmt: skip
    rollup_services.rollup_run(company_id=alpha.company.pk)
    assert tasks.managers_at_risk(alpha.company.pk) >= 1
    tasks.managers_at_risk(alpha.company.pk)  # the next day: not announced again
    deliver(alpha, subscription)
    events = [e for e in receiver.events() if e["data"]["manager"]["code"] == str(manager.code)]
    [event] = events
    assert event["event"] == "manager.at_risk" and event["data"]["month"] == f"{today:%Y-%m}"
    [risk] = [k for k in event["data"]["kpis"] if k["kpi"] == "calls"]
    assert Decimal(risk["forecast"]) < Decimal(risk["plan"]) == Decimal(300_000)


def test_the_admin_page_lists_subscriptions_and_the_delivery_log(
    client, alpha: Cast, receiver: Receiver
):
    made = subscribe(alpha, receiver.url, ["month.closed"])
    receiver.statuses = [500]
    with tenancy.tenant_context(alpha.company):
        services.emit(company=alpha.company, event="month.closed", payload={"month": "2026-01"})
    deliver(alpha, subscription_of(alpha, made))
    client.force_login(alpha.admin)
    page = client.get(reverse("webhook-list")).content.decode()
    assert receiver.url.replace("&", "&amp;") in page
    assert "Месяц закрыт" in page and "ожидает отправки" in page and "500" in page
    assert "следующая попытка" in page
    client.post(reverse("set_language"), {"language": "en"})
    english = client.get(reverse("webhook-list")).content.decode()
    assert "Delivery log" in english and "waiting to be sent" in english
    client.force_login(alpha.head)
    assert client.get(reverse("webhook-list")).status_code == 403


def test_a_name_not_resolving_yet_is_saved_and_each_attempt_checks_it(alpha: Cast):
    made = subscribe(alpha, "https://hooks.invalid/salesdesk", ["month.closed"])
    subscription = subscription_of(alpha, made)
    with tenancy.tenant_context(alpha.company):
        services.emit(company=alpha.company, event="month.closed", payload={"month": "2026-01"})
    deliver(alpha, subscription)
    [delivery] = deliveries(alpha, subscription)
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_error == "Адрес не найден: проверьте имя сервера."
