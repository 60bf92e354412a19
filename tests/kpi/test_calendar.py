import datetime
import importlib

import holidays
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts import tenancy
from kpi import services
from kpi.calendar import (
    calendar_for,
    is_provisional,
    manager_working_days,
    working_days_by_month,
)
from kpi.models import CalendarDay
from rollups.models import Bucket, WorkingDay
from rollups.services import totals_reconcile, working_days_ensure
from tests.factories import CompanyFactory


def test_january_2026_has_15_working_days_and_the_year_247(alpha):
    with tenancy.tenant_context(alpha.company):
        months = working_days_by_month(company=alpha.company, year=2026)
    assert months[1] == 15
    assert sum(months.values()) == 247


def _package_working_days(year: int) -> set[datetime.date]:
    russia = holidays.country_holidays("RU")
    first = datetime.date(year, 1, 1)
    days = (first + datetime.timedelta(days=offset) for offset in range(366))
    return {day for day in days if day.year == year and russia.is_working_day(day)}


def test_the_yearly_counts_are_the_packages_with_no_copied_days(alpha):
    # The old hand list lived in each company's rows; without them it counted 245 and 246.
    with tenancy.tenant_context(alpha.company):
        CalendarDay.objects.filter(company=alpha.company).delete()
        counts = {
            year: working_days_by_month(company=alpha.company, year=year)
            for year in (2024, 2025, 2026)
        }
    assert {year: sum(months.values()) for year, months in counts.items()} == {
        2024: 248,
        2025: 247,
        2026: 247,
    }
    assert counts[2026][1] == 15


def test_2024_11_02_is_a_working_saturday_whose_day_off_went_to_30_april(alpha):
    saturday, day_off = datetime.date(2024, 11, 2), datetime.date(2024, 4, 30)
    with tenancy.tenant_context(alpha.company):
        calendar = calendar_for(company=alpha.company)
    assert calendar.is_working(saturday)
    assert not calendar.is_working(day_off)
    # The hand list said "перенос на 3 ноября"; the decree moved it to 30 April.
    assert calendar.holiday_name(saturday) == "Рабочий день: выходной перенесён на 30.04.2024"
    assert calendar.holiday_name(day_off) == "Выходной (перенесено с 02.11.2024)"
    with translation.override("en"):
        assert calendar.holiday_name(saturday) == "Working day: its day off moved to 04/30/2024"
        assert calendar.holiday_name(day_off) == "Day off (substituted from 11/02/2024)"
        assert calendar.holiday_name(datetime.date(2026, 1, 1)) == "New Year Holidays"


def test_the_2027_decree_comes_from_the_package(alpha):
    with tenancy.tenant_context(alpha.company):
        calendar = calendar_for(company=alpha.company)
        assert sum(working_days_by_month(company=alpha.company, year=2027).values()) == 247
    assert calendar.is_working(datetime.date(2027, 2, 20))  # a Saturday, for Monday 22nd
    assert not calendar.is_working(datetime.date(2027, 2, 22))
    assert not calendar.is_working(datetime.date(2027, 11, 5))  # 2 January's day off
    assert calendar.holiday_name(datetime.date(2027, 2, 20)) == (
        "Рабочий день: выходной перенесён на 22.02.2027"
    )


def test_a_new_company_gets_no_copied_calendar_days(db):
    company = CompanyFactory(name="Новая")
    with tenancy.tenant_context(company):
        assert not CalendarDay.objects.exists()
        assert calendar_for(company=company).is_working(datetime.date(2025, 11, 1))


def test_the_stored_working_days_are_the_packages_plus_the_companys_own(alpha):
    own_day_off, own_working = datetime.date(2025, 11, 1), datetime.date(2026, 1, 10)
    with tenancy.tenant_context(alpha.company):
        CalendarDay.objects.filter(company=alpha.company).delete()
        services.calendar_day_set(company=alpha.company, date=own_day_off, is_working=False)
        services.calendar_day_set(company=alpha.company, date=own_working, is_working=True)
        working_days_ensure(
            company=alpha.company,
            start=datetime.date(2024, 1, 1),
            end=datetime.date(2027, 12, 31),
        )
        stored = set(
            WorkingDay.objects.filter(company=alpha.company, date__year__gte=2024)
            .filter(date__year__lte=2027)
            .values_list("date", flat=True)
        )
    expected = set().union(*(_package_working_days(year) for year in range(2024, 2028)))
    assert stored == (expected - {own_day_off}) | {own_working}


def _run_migration() -> None:
    migration = importlib.import_module("kpi.migrations.0006_calendar_from_holidays")
    with connection.schema_editor() as editor:
        migration.calendar_from_the_package(apps, editor)


def test_the_migration_removes_the_copies_and_brings_the_stored_days_to_the_package(alpha, beta):
    copies = {
        datetime.date(2024, 4, 27): "Рабочая суббота (перенос на 29 апреля)",
        datetime.date(2024, 11, 2): "Рабочая суббота (перенос на 3 ноября)",
        datetime.date(2024, 12, 28): "Рабочая суббота (перенос на 30 декабря)",
        datetime.date(2025, 11, 1): "Рабочая суббота (перенос на 3 ноября)",
    }
    february = datetime.date(2027, 2, 1)
    for cast in (alpha, beta):
        with tenancy.tenant_context(cast.company):
            CalendarDay.objects.filter(company=cast.company).delete()
            for day, note in copies.items():
                CalendarDay.objects.create(
                    company=cast.company, date=day, is_working=True, note=note, origin="transfer"
                )
            services.calendar_day_set(
                company=cast.company, date=datetime.date(2025, 3, 3), is_working=False
            )
            WorkingDay.objects.filter(company=cast.company).delete()
            # As the old rule wrote 2027: the decree's working Saturday missing.
            working_days_ensure(company=cast.company, start=datetime.date(2024, 1, 1), end=february)
            WorkingDay.objects.filter(
                company=cast.company, date=datetime.date(2027, 2, 20)
            ).delete()
            Bucket.objects.create(
                company=cast.company,
                scope="company",
                subject_id=cast.company.pk,
                period="month",
                start=february,
                end=datetime.date(2027, 2, 28),
                marks=3,
                done=3,
            )
            Bucket.objects.create(
                company=cast.company,
                scope="company",
                subject_id=cast.company.pk,
                period="month",
                start=datetime.date(2026, 2, 1),
                end=datetime.date(2026, 2, 28),
                marks=3,
                done=3,
            )

    _run_migration()

    for cast in (alpha, beta):
        with tenancy.tenant_context(cast.company):
            assert not CalendarDay.objects.filter(origin="transfer").exists()
            assert list(CalendarDay.objects.values_list("date", "is_working")) == [
                (datetime.date(2025, 3, 3), False)
            ]
            stored = set(WorkingDay.objects.values_list("date", flat=True))
            expected = set().union(*(_package_working_days(year) for year in range(2024, 2028)))
            assert stored == expected - {datetime.date(2025, 3, 3)}
            marks = dict(Bucket.objects.values_list("start", "marks"))
            assert marks[february] == 4  # February 2027 changed: its totals are stale
            assert marks[datetime.date(2026, 2, 1)] == 3


def test_a_year_without_its_decree_is_provisional(client, alpha):
    assert is_provisional(year=2028, country="RU")
    assert not is_provisional(year=2027, country="RU")
    assert not is_provisional(year=2024, country="RU")
    assert not is_provisional(year=2028, country="US")  # no days off moved by decree there
    client.force_login(alpha.admin)
    notice = "Календарь на 2028 год предварительный: постановление о переносе выходных"
    assert notice in client.get(reverse("calendar"), {"year": 2028}).content.decode()
    assert "предварительный" not in client.get(reverse("calendar"), {"year": 2027}).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("calendar"), {"year": 2028}).content.decode()
    assert "The 2028 calendar is provisional" in page
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    assert api.get(reverse("api-calendar", args=[2028])).json()["provisional"] is True
    assert api.get(reverse("api-calendar", args=[2027])).json()["provisional"] is False


def test_the_nightly_check_brings_stored_years_to_a_newer_package(alpha):
    # Rows written under an older rule (a year provisional then, its decree out since).
    saturday, sunday = datetime.date(2027, 2, 20), datetime.date(2027, 2, 21)
    with tenancy.tenant_context(alpha.company):
        working_days_ensure(
            company=alpha.company, start=datetime.date(2027, 1, 1), end=datetime.date(2027, 1, 1)
        )
        WorkingDay.objects.filter(company=alpha.company, date=saturday).delete()
        WorkingDay.objects.create(company=alpha.company, date=sunday)
    totals_reconcile(company_id=alpha.company.pk)
    with tenancy.tenant_context(alpha.company):
        stored = set(
            WorkingDay.objects.filter(company=alpha.company, date__year=2027).values_list(
                "date", flat=True
            )
        )
    assert stored == _package_working_days(2027)


def test_an_override_still_wins(alpha):
    saturday, sunday = datetime.date(2024, 11, 2), datetime.date(2024, 11, 3)
    with tenancy.tenant_context(alpha.company):
        working_days_ensure(
            company=alpha.company, start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31)
        )
        services.calendar_day_set(company=alpha.company, date=saturday, is_working=False)
        services.calendar_day_set(company=alpha.company, date=sunday, is_working=True)
        calendar = calendar_for(company=alpha.company)
        assert not calendar.is_working(saturday)
        assert calendar.is_working(sunday)
        assert sum(working_days_by_month(company=alpha.company, year=2024).values()) == 248
        assert not WorkingDay.objects.filter(company=alpha.company, date=saturday).exists()
        assert WorkingDay.objects.filter(company=alpha.company, date=sunday).exists()


def test_the_company_adds_its_own_days(alpha):
    with tenancy.tenant_context(alpha.company):
        services.calendar_day_set(
            company=alpha.company, date=datetime.date(2026, 1, 12), is_working=False, note="Офис"
        )
        services.calendar_day_set(
            company=alpha.company, date=datetime.date(2026, 1, 10), is_working=True
        )
        assert working_days_by_month(company=alpha.company, year=2026)[1] == 15
        services.calendar_day_remove(company=alpha.company, date=datetime.date(2026, 1, 10))
        assert working_days_by_month(company=alpha.company, year=2026)[1] == 14


def test_absences_leave_the_managers_working_days(alpha):
    manager = alpha.manager
    with tenancy.tenant_context(alpha.company):
        services.absence_create(
            company=alpha.company,
            manager=manager,
            kind="vacation",
            start=datetime.date(2026, 1, 10),
            end=datetime.date(2026, 1, 16),
        )
        days = manager_working_days(
            company=alpha.company,
            manager=manager,
            start=datetime.date(2026, 1, 1),
            end=datetime.date(2026, 1, 31),
        )
    assert len(days) == 10
    assert datetime.date(2026, 1, 12) not in days


def test_overlapping_absences_are_refused(alpha):
    from django.core.exceptions import ValidationError

    with tenancy.tenant_context(alpha.company):
        args = {"company": alpha.company, "manager": alpha.manager, "kind": "sick"}
        services.absence_create(
            **args, start=datetime.date(2026, 2, 2), end=datetime.date(2026, 2, 4)
        )
        try:
            services.absence_create(
                **args, start=datetime.date(2026, 2, 4), end=datetime.date(2026, 2, 6)
            )
        except ValidationError as error:
            assert "уже есть отсутствие" in error.messages[0]
        else:
            raise AssertionError("overlap accepted")


def test_the_calendar_api_counts_the_callers_company(alpha, beta):
    with tenancy.tenant_context(beta.company):
        services.calendar_day_set(
            company=beta.company, date=datetime.date(2026, 1, 12), is_working=False
        )
    api = Client(headers={"Authorization": f"Token {alpha.api_key}"})
    data = api.get(reverse("api-calendar", args=[2026])).json()
    assert data["working_days"] == 247
    assert data["months"]["1"] == 15
    beta_data = Client(headers={"Authorization": f"Token {beta.api_key}"}).get(
        reverse("api-calendar", args=[2026])
    )
    assert beta_data.json()["months"]["1"] == 14


def test_the_calendar_page(client, alpha):
    client.force_login(alpha.admin)
    page = client.get(reverse("calendar"), {"year": 2026}).content.decode()
    assert "<strong>247</strong>" in page
    response = client.post(
        reverse("calendar") + "?year=2027",
        {"date": "2027-01-09", "is_working": "1", "note": "Перенос 2027"},
    )
    assert response.status_code == 302
    assert "Перенос 2027" in client.get(reverse("calendar"), {"year": 2027}).content.decode()
