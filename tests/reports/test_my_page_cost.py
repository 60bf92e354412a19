"""What «Мои показатели» and every page pay per request, kept down (bench/request_cost.py):
the manager's recent reports in two queries, the main menu rendered once per role and
language yet always the role's and language's own, the session read in plain SQL yet dying
as before."""

import datetime
from decimal import Decimal

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.sessions import SessionStore
from reports import selectors
from reports.models import DailyReport, ReportValue
from tests.reports.test_my_page import busy_manager  # noqa: F401 - a fixture

# Measured with 5 KPIs and the cast: 16 (it was 22: the recent reports took four; 19: their
# KPIs read again and the view's savepoint, two statements).
MY_PAGE_QUERIES = 16


def test_it_shows_the_managers_page_in_fewer_queries(
    client,
    busy_manager,  # noqa: F811 - the fixture imported above
    django_assert_max_num_queries,
):
    client.force_login(busy_manager)
    with django_assert_max_num_queries(MY_PAGE_QUERIES):
        response = client.get(reverse("my-kpis"))
    assert response.status_code == 200


def test_the_recent_reports_are_the_last_two_weeks_newest_first_with_every_figure(
    client, ctx, today
):
    manager = ctx.managers[1]
    DailyReport.objects.filter(manager=manager).delete()
    kpis = {
        k.code: k for k in selectors.typed_kpis_of(company=ctx.company, manager=manager, day=today)
    }
    filed = {"company": ctx.company, "manager": manager, "submitted_at": timezone.now()}
    old = DailyReport.objects.create(date=today - datetime.timedelta(days=15), **filed)
    ReportValue.objects.create(company=ctx.company, report=old, kpi=kpis["calls"], value=99)
    day = today - datetime.timedelta(days=2)
    recent = DailyReport.objects.create(date=day, **filed)
    ReportValue.objects.create(company=ctx.company, report=recent, kpi=kpis["calls"], value=61)
    ReportValue.objects.create(
        company=ctx.company, report=recent, kpi=kpis["talk_time"], value=Decimal(5400)
    )
    empty = DailyReport.objects.create(date=today - datetime.timedelta(days=1), **filed)

    found = selectors.recent_reports_of_manager(company=ctx.company, manager=manager)

    assert [(r.code, r.date) for r in found] == [(empty.code, empty.date), (recent.code, day)]
    assert found[0].values == []
    assert [(f.kpi.code, f.value) for f in found[1].values] == [
        ("calls", Decimal(61)),
        ("talk_time", Decimal(5400)),
    ]
    client.force_login(manager)
    page = client.get(reverse("my-kpis")).content.decode()
    assert reverse("report-detail", args=[recent.code]) in page
    assert f"{kpis['calls'].name}: 61; {kpis['talk_time'].name}: 1 ч 30 мин" in page
    # The old report's figure (not "99" alone: a report's code in a link may hold it).
    assert f"{kpis['calls'].name}: 99" not in page.split("Мои отчёты за две недели")[1]
    home = client.get(reverse("home")).content.decode()
    assert f"{kpis['calls'].name}: 61; {kpis['talk_time'].name}: 1 ч 30 мин" in home


MANAGER_LINK = 'href="/my/"'
HEAD_LINK = 'href="/dashboard/"'
ADMIN_LINK = 'href="/company/users/"'


def test_the_menu_is_the_roles_and_follows_a_role_change_and_the_language_at_once(client, ctx):
    manager = ctx.managers[0]
    client.force_login(manager)
    page = client.get(reverse("profile")).content.decode()
    assert MANAGER_LINK in page and "Мои показатели" in page
    assert HEAD_LINK not in page and ADMIN_LINK not in page

    client.force_login(ctx.head)
    page = client.get(reverse("profile")).content.decode()
    assert HEAD_LINK in page and MANAGER_LINK not in page and ADMIN_LINK not in page

    client.force_login(ctx.admin)
    page = client.get(reverse("profile")).content.decode()
    assert ADMIN_LINK in page and HEAD_LINK in page

    # The same manager made head: the next page shows the head's menu.
    User.objects.filter(pk=manager.pk).update(role=User.Role.HEAD)
    client.force_login(User.objects.get(pk=manager.pk))
    page = client.get(reverse("profile")).content.decode()
    assert HEAD_LINK in page and MANAGER_LINK not in page

    client.cookies["django_language"] = "en"
    page = client.get(reverse("profile")).content.decode()
    assert ">Dashboard<" in page and ">Дашборд<" not in page
    client.cookies["django_language"] = "ru"
    page = client.get(reverse("profile")).content.decode()
    assert ">Дашборд<" in page


def test_a_session_read_in_sql_is_the_stored_one_and_an_expired_or_unknown_one_is_not(alpha):
    store = SessionStore()
    store[SESSION_KEY] = "42"
    store.save()
    assert SessionStore(store.session_key).load() == {SESSION_KEY: "42"}

    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None  # a new key is made on the next save, as Django does

    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_a_session_still_dies_at_logout_and_when_the_password_changes(alpha, password):
    first, second = Client(), Client()
    for client in (first, second):
        assert (
            client.post(
                reverse("login"), {"username": "alpha.head", "password": password}
            ).status_code
            == 302
        )
        assert client.get(reverse("profile")).status_code == 200
    first.post(reverse("logout"))
    assert first.get(reverse("profile")).status_code == 302

    third = Client()
    third.post(reverse("login"), {"username": "alpha.head", "password": password})
    new = "Another-long-pass-2026"
    response = third.post(
        reverse("password-change"),
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert third.get(reverse("profile")).status_code == 200  # the changer's own session lives
    assert second.get(reverse("profile")).status_code == 302  # another one ends
