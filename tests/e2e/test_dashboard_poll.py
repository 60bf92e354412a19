"""The open dashboard in Chromium: its poll sends back the state it shows, a 204 leaves the
page as it is, and a report filed meanwhile arrives by the next poll without a reload."""

import pytest

from accounts import tenancy
from dashboard.selectors import poll
from kpi import services as kpi_services
from reports import services as report_services
from rollups import services as rollup_services
from tests.conftest import make_cast
from tests.e2e.htmx import settled
from tests.e2e.test_smoke import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOCUS = "window.dispatchEvent(new Event('focus'))"  # the block also polls on returning to the tab


def is_poll(response) -> bool:
    return "/dashboard/" in response.url and response.request.headers.get("hx-trigger") == "figures"


def test_the_poll_answers_204_until_a_report_arrives(page, live_server, monkeypatch):
    monkeypatch.setattr(poll, "STATE_SECONDS", 10**9)  # no hourly tick mid-test
    cast = make_cast("e2e", "Е2Е Продажи")
    manager = cast.managers[2]
    with tenancy.tenant_context(cast.company):  # a weekend would show «выходной», not «нет отчёта»
        kpi_services.calendar_day_set(
            company=cast.company, date=cast.company.local_time().date(), is_working=True
        )
    rollup_services.rollup_run(company_id=cast.company.pk)
    log_in(page, live_server.url, "e2e.head")
    # Today's day view: the dashboard opens on the last working day under review.
    page.goto(f"{live_server.url}/dashboard/?period=day")
    row = page.locator(f'tr[data-manager="{manager.username}"]')
    assert "нет отчёта" in row.inner_text()
    loads = []
    page.on("load", lambda _page: loads.append(1))

    with page.expect_response(is_poll) as first:
        page.evaluate(FOCUS)
    assert first.value.status == 204
    assert first.value.request.headers.get("x-figures-state")
    assert "нет отчёта" in row.inner_text()  # nothing was swapped away

    with tenancy.tenant_context(cast.company):
        report_services.report_submit(
            company=cast.company, manager=manager, day=cast.company.local_time().date(),
            values={"calls": "55", "long_calls": "20", "leads": "2", "talk_time": "0:30:00"},
            actor=manager,
        )  # fmt: skip
    rollup_services.rollup_run(company_id=cast.company.pk)
    answers = []  # this poll's, or the 30-second timer's if it came first
    page.on("response", lambda response: is_poll(response) and answers.append(response.status))
    with settled(page):  # the new block's own poll is wired up once htmx has settled it
        page.evaluate(FOCUS)
    row.filter(has_text="55").wait_for()
    assert 200 in answers
    assert "нет отчёта" not in row.inner_text()
    assert loads == []  # no reload: the block was swapped in place

    with page.expect_response(is_poll) as third:  # with the state the new block carries
        page.evaluate(FOCUS)
    assert third.value.status == 204
    assert (
        third.value.request.headers["x-figures-state"]
        != (first.value.request.headers["x-figures-state"])
    )
