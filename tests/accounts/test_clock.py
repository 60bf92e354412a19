"""The company's clock: "today" and a day's bounds are the company's, never the server's.

The server runs on Moscow time (settings.TIME_ZONE). A company in Vladivostok (UTC+10) is
already on 1 October while the server is still on 30 September: every page must take the
company's date.
"""

import datetime
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts import tenancy
from accounts.models import SalesRole
from reports import services as report_services

VLADIVOSTOK = zoneinfo.ZoneInfo("Asia/Vladivostok")
# 30 September, 18:30 in Moscow; 1 October, 01:30 in Vladivostok.
MOMENT = datetime.datetime(2026, 9, 30, 15, 30, tzinfo=datetime.UTC)
SERVER_DAY, COMPANY_DAY = datetime.date(2026, 9, 30), datetime.date(2026, 10, 1)


@pytest.fixture
def far_east(alpha, monkeypatch):
    """Alpha moved to Vladivostok, at MOMENT."""
    with tenancy.tenant_context(alpha.company):
        alpha.company.timezone = "Asia/Vladivostok"
        alpha.company.save(update_fields=["timezone"])
        # The cast joined when it was built, after MOMENT: on the company's 1 October they
        # would not be expected to report yet (reports.selectors.report_statuses).
        for manager in alpha.managers:
            manager.date_joined = MOMENT - datetime.timedelta(days=30)
            manager.save(update_fields=["date_joined"])
    monkeypatch.setattr(timezone, "now", lambda: MOMENT)
    assert timezone.localdate() == SERVER_DAY  # the server's date differs
    return alpha


def test_it_tells_the_company_s_date_and_day_bounds(far_east):
    company = far_east.company
    assert company.today() == COMPANY_DAY
    assert company.now() == MOMENT
    assert company.now().tzinfo == VLADIVOSTOK
    start, end = company.day_bounds(COMPANY_DAY)
    assert start == datetime.datetime(2026, 10, 1, tzinfo=VLADIVOSTOK)
    assert end - start == datetime.timedelta(days=1)
    assert start == datetime.datetime(2026, 9, 30, 14, tzinfo=datetime.UTC)
    assert company.day_bounds(SERVER_DAY, COMPANY_DAY) == (company.day_start(SERVER_DAY), end)


def test_it_gives_the_report_form_and_team_reports_the_company_s_day(far_east, client):
    client.force_login(far_east.manager)
    response = client.get("/report/")
    assert response.url == f"/report/{COMPANY_DAY.isoformat()}/"

    client.force_login(far_east.head)
    response = client.get("/reports/team/")
    assert response.context["date"] == COMPANY_DAY
    # Nobody reported on the company's 1 October yet: "not reported", a working Thursday.
    assert {row.status for row in response.context["rows"]} == {"missing"}


def test_a_report_filed_after_the_company_s_midnight_is_late(far_east, client):
    """Filed at 01:30 on 1 October company time for 30 September: late, although the
    server's clock still says 30 September."""
    with tenancy.tenant_context(far_east.company):
        report_services.report_submit(
            company=far_east.company, manager=far_east.manager, day=SERVER_DAY,
            values={"calls": "40", "long_calls": "9", "talk_time": "0:40:00", "leads": "2"},
            actor=far_east.manager,
        )  # fmt: skip
    client.force_login(far_east.head)
    response = client.get(f"/reports/team/?date={SERVER_DAY.isoformat()}")
    statuses = {row.manager.pk: row.status for row in response.context["rows"]}
    assert statuses[far_east.manager.pk] == "late"

    response = client.get("/dashboard/")
    assert response.context["today"] == COMPANY_DAY


def test_settings_pages_and_the_api_start_from_the_company_s_date(far_east, client):
    company = far_east.company
    with tenancy.tenant_context(company):
        hunter = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
    client.force_login(far_east.admin)

    response = client.get(f"/settings/roles/{hunter.code}/")
    assert response.context["on"] == COMPANY_DAY
    assert response.context["form"]["effective_from"].initial == COMPANY_DAY

    api = Client(headers={"Authorization": f"Token {far_east.api_key}"})
    assert api.get(f"/api/v1/sales-roles/{hunter.code}/kpis/").json()["on"] == "2026-10-01"

    client.force_login(far_east.head)
    response = client.get("/plans/")
    assert response.url.endswith("/2026/10/")
