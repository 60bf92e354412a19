"""The real path: a report filed and corrected through the service, committed, is sent by the
Celery worker to a receiver on loopback, signed and in order."""

import time

import pytest

from accounts import tenancy
from reports import services as report_services
from tests.conftest import make_cast
from tests.reports.conftest import FIGURES, working_day_before
from tests.webhooks.test_webhooks import Receiver, verified
from webhooks import services
from webhooks.models import Delivery

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_sends_a_filed_and_a_corrected_report_in_order(celery_worker, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    receiver = Receiver()
    try:
        cast = make_cast("hk", "Крючок")
        with tenancy.tenant_context(cast.company):
            subscription = services.subscription_create(
                company=cast.company, actor=cast.admin, url=receiver.url,
                events=["report.filed", "report.corrected"],
            )  # fmt: skip
        manager = cast.managers[1]
        with tenancy.tenant_context(cast.company):
            day = working_day_before(cast.company.today(), cast)
            report_services.report_submit(
                company=cast.company, manager=manager, day=day, values=FIGURES, actor=manager
            )
        with tenancy.tenant_context(cast.company):
            report_services.report_submit(
                company=cast.company, manager=manager, day=day, version=1, actor=manager,
                values={**FIGURES, "leads": "5"},
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(receiver.received) < 2:
            time.sleep(0.2)
        events = receiver.events()
        assert [(e["event"], e["sequence"]) for e in events] == [
            ("report.filed", 1),
            ("report.corrected", 2),
        ]
        assert events[1]["data"]["values"]["leads"] == "5"
        assert all(
            verified(subscription.secret, r["headers"], r["body"]) for r in receiver.received
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with tenancy.tenant_context(cast.company):
                found = Delivery.objects.filter(subscription=subscription).order_by("sequence")
                states = list(found.values_list("state", flat=True))
            if states == ["delivered", "delivered"]:
                break
            time.sleep(0.2)
        assert states == ["delivered", "delivered"]
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
