"""The monthly classification runs on the real Celery worker, queued by the beat task."""

import time

import pytest

from accounts import tenancy
from clients import tasks
from clients.models import ClientClass
from tests.clients.conftest import ABC_EXPECTED, ABC_JUNE, JUNE, make_client, noon, won_deal
from tests.conftest import make_cast

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_classifies_the_month_just_ended_on_the_worker(celery_worker):
    cast = make_cast("wrk", "Рабочая")
    with tenancy.tenant_context(cast.company):
        for name, amount in ABC_JUNE.items():
            client = make_client(cast.company, name)
            won_deal(cast.company, client, noon(2026, 6, 10), amount, cast.managers[1])
    # 01:30 UTC on 1 July is 04:30 in Moscow: the company's June is due.
    assert tasks.classify_due("2026-07-01T01:30:00+00:00") == [cast.company.pk]
    assert tasks.classify_due("2026-07-01T03:30:00+00:00") == []
    found: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(found) < len(ABC_JUNE):
        with tenancy.tenant_context(cast.company):
            found = dict(ClientClass.objects.filter(month=JUNE).values_list("client__name", "abc"))
        time.sleep(0.3)
    assert found == ABC_EXPECTED
