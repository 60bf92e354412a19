"""Dates as the reader's language writes them (kpi.values.format_date and the `day`,
`moment`, `month_number` filters): an English page never shows a Russian «30.11.2026»."""

import datetime
import re

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts import tenancy
from accounts.demo import demo_load
from accounts.models import User
from kpi.values import format_date, format_datetime, format_month

RUSSIAN_DATE = re.compile(r"\d\d\.\d\d\.\d{4}")
ENGLISH_DATE = re.compile(r"\d\d/\d\d/\d{4}")


def test_a_day_a_moment_and_a_month_follow_the_language():
    day = datetime.date(2026, 11, 30)
    moment = datetime.datetime(2026, 11, 30, 14, 5, 9)
    with translation.override("ru"):
        assert (format_date(day), format_date(day, year=False)) == ("30.11.2026", "30.11")
        assert format_datetime(moment) == "30.11.2026 14:05"
        assert format_datetime(moment, year=False) == "30.11 14:05"
        assert format_datetime(moment, seconds=True) == "30.11.2026 14:05:09"
        assert format_month(day) == "11.2026"
    with translation.override("en"):
        assert (format_date(day), format_date(day, year=False)) == ("11/30/2026", "11/30")
        assert format_datetime(moment) == "11/30/2026 14:05"
        assert format_month(day) == "11/2026"
    assert format_date(None) == format_datetime(None) == format_month(None) == ""


def _pages(user: User) -> list[str]:
    if user.role == User.Role.MANAGER:
        today = timezone.localdate().isoformat()
        return [reverse("home"), reverse("report-form", args=[today]), reverse("my-kpis")]
    if user.role == User.Role.ADMIN:
        return [reverse("calendar")]
    return [
        reverse("dashboard"),
        reverse("dashboard") + "?period=week",
        reverse("dashboard") + "?period=range&start=2026-01-01&end=2026-01-31",
        reverse("team-reports"),
        reverse("funnel"),
    ]


def test_the_demos_main_pages_in_english_show_no_russian_dates(client, db):
    vector = demo_load()[0]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    seen = []
    for username in ["vector.head", "vector.admin", "vector.ivanov"]:
        with tenancy.tenant_context(vector):
            user = User.objects.get(username=username)
        client.force_login(user)
        for url in _pages(user):
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert not RUSSIAN_DATE.findall(html), (url, RUSSIAN_DATE.findall(html)[:5])
            seen += ENGLISH_DATE.findall(html)
    assert seen  # the dates are there, written the English way


def test_the_casts_pages_in_english_show_no_russian_dates(client, alpha):
    for user, urls in [
        (alpha.head, [reverse("dashboard"), reverse("team-reports"), reverse("funnel")]),
        (alpha.admin, [reverse("calendar")]),
        (alpha.manager, [reverse("home"), reverse("report-today"), reverse("my-kpis")]),
    ]:
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert not RUSSIAN_DATE.findall(html), (url, RUSSIAN_DATE.findall(html)[:5])
