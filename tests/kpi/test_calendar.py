import datetime

from django.test import Client
from django.urls import reverse

from accounts import tenancy
from kpi import services
from kpi.calendar import calendar_for, manager_working_days, working_days_by_month


def test_january_2026_has_15_working_days_and_the_year_247(alpha):
    with tenancy.tenant_context(alpha.company):
        months = working_days_by_month(company=alpha.company, year=2026)
    assert months[1] == 15
    assert sum(months.values()) == 247


def test_the_official_working_saturdays_are_shipped(alpha):
    # The holidays package alone gives 245 and 246: it lacks the decreed working Saturdays.
    with tenancy.tenant_context(alpha.company):
        assert sum(working_days_by_month(company=alpha.company, year=2024).values()) == 248
        assert sum(working_days_by_month(company=alpha.company, year=2025).values()) == 247
        assert calendar_for(company=alpha.company).is_working(datetime.date(2025, 11, 1))


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
