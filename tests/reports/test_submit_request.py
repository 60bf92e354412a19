"""The end-of-day form's submission as a WSGI server serves it: what runs before the
response goes, and what after (salesdesk.after_response)."""

import re

import pytest
from celery.signals import before_task_publish
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory

from accounts import tenancy
from rollups.models import Bucket
from tests.reports.conftest import FIGURES


@pytest.mark.django_db(transaction=True)
def test_a_report_s_rollup_is_queued_once_its_response_has_gone(alpha, client):
    """The rollup of a submitted report is published to the broker when the server closes
    the response, not while the manager waits for it; its buckets are marked in the
    report's own transaction, before the answer. Fails on the old code: the rollup was
    published in the request, before the response was returned."""
    manager = alpha.managers[1]
    today = alpha.company.today()
    url = f"/report/{today.isoformat()}/"
    client.force_login(manager)
    form = client.get(url).content.decode()
    data = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1],
        "version": re.search(r'name="version" value="(\d+)"', form)[1],
        "confirm": "yes",
        **FIGURES,
    }
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    environ = RequestFactory().post(url, data, HTTP_COOKIE=cookies).environ
    published = []

    def record(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(record)
    try:
        started = []
        response = WSGIHandler()(environ, lambda status, headers: started.append(status))
        body = b"".join(response)  # all the server sends the browser
        assert started == ["302 Found"], body
        with tenancy.tenant_context(alpha.company):
            marked = Bucket.objects.filter(company=alpha.company, start=today, period="day")
            assert marked.filter(scope="manager", subject_id=manager.pk).exists()
        assert published == []
        response.close()  # the server is done with it: request_finished
        assert published == ["rollups.tasks.rollup_company"]
    finally:
        before_task_publish.disconnect(record)
