"""«Попробовать на примере»: a sample team with history in a real company, removed by one click
with nothing of the admin's own."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import sample, selectors, services, tenancy
from accounts.models import AuditEvent, SalesRole, Team, User
from kpi import services as kpi_services
from kpi.models import KPI, Plan
from reports.models import DailyReport, ReportValue
from rollups.models import Bucket, Scope, Total


def _open_company():
    admin = services.company_open(
        name="Пример и Ко", timezone="Europe/Moscow", admin_email="admin@sample.example",
        admin_password_hash="!",
    )  # fmt: skip
    return admin.company, admin


@pytest.mark.django_db
def test_the_sample_fills_a_new_company_and_one_click_removes_exactly_it(client):
    company, admin = _open_company()
    # The admin's own work before trying the sample: a manager, a KPI, a plan.
    with tenancy.tenant_context(company):
        hunter = SalesRole.objects.get(company=company, kind=SalesRole.Kind.HUNTER)
        own = services.user_create(
            company=company, username=f"{company.login_prefix}.own", password="Sunny-Meadow-42",
            sales_role=hunter, actor=admin, invite=False,
        )  # fmt: skip
        kpi = kpi_services.kpi_create(
            company=company, actor=admin, code="own_visits", name_ru="Визиты", unit="count",
        )  # fmt: skip
        calls = KPI.objects.get(company=company, code="calls")
        kpi_services.plan_set(
            company=company, kpi=calls, start=company.today(), value=Decimal(1000), manager=own
        )
        kpis_before = set(KPI.objects.filter(company=company).values_list("pk", flat=True))
        roles_before = set(SalesRole.objects.filter(company=company).values_list("pk", flat=True))

    client.force_login(admin)
    home = client.get(reverse("home")).content.decode()
    assert "Попробовать на примере" in home and "Удалить пример" not in home
    client.post(reverse("sample-add"))

    with tenancy.tenant_context(company):
        people = list(User.objects.filter(company=company, is_sample=True))
        managers = [u for u in people if u.role == User.Role.MANAGER]
        assert 3 <= len(managers) <= 5
        assert [u.role for u in people].count(User.Role.HEAD) == 1
        team = Team.objects.get(company=company, head__is_sample=True)
        assert {m.team_id for m in managers} == {team.pk}
        assert DailyReport.objects.filter(manager__in=managers).count() > 50
        assert Plan.objects.filter(manager__in=managers, start=company.today().replace(day=1))
        # Nothing new besides people: the company's own roles and KPIs carry the sample.
        assert set(KPI.objects.filter(company=company).values_list("pk", flat=True)) == kpis_before
        assert set(SalesRole.objects.filter(company=company).values_list("pk", flat=True)) == (
            roles_before
        )
        # The dashboard's totals are built.
        assert Total.objects.filter(scope=Scope.TEAM, subject_id=team.pk, value_sum__gt=0).exists()
        assert AuditEvent.objects.filter(action=AuditEvent.Action.SAMPLE_ADDED).exists()
    home = client.get(reverse("home")).content.decode()
    assert "Удалить пример" in home and "Попробовать на примере" not in home
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200

    # Without the confirmation nothing goes.
    refused = client.post(reverse("sample-remove"), follow=True).content.decode()
    assert "Отметьте, что пример действительно нужно удалить" in refused
    assert sample.sample_data_present(company=company)

    client.post(reverse("sample-remove"), {"confirm": "yes"})
    with tenancy.tenant_context(company):
        ids = [u.pk for u in people]
        assert not User.objects.filter(pk__in=ids).exists()
        assert not Team.objects.filter(pk=team.pk).exists()
        assert not DailyReport.objects.filter(manager_id__in=ids).exists()
        assert not ReportValue.objects.filter(report__manager_id__in=ids).exists()
        assert not Plan.objects.filter(manager_id__in=ids).exists()
        assert not Bucket.objects.filter(scope=Scope.MANAGER, subject_id__in=ids).exists()
        assert not Total.objects.filter(scope=Scope.TEAM, subject_id=team.pk).exists()
        assert not Total.objects.filter(scope=Scope.MANAGER, subject_id__in=ids).exists()
        # The admin's own stay.
        assert User.objects.filter(pk__in=[admin.pk, own.pk]).count() == 2
        assert Plan.objects.filter(manager=own, kpi=calls).exists()
        assert KPI.objects.filter(pk=kpi.pk).exists()
        assert set(KPI.objects.filter(company=company).values_list("pk", flat=True)) == kpis_before
        assert AuditEvent.objects.filter(action=AuditEvent.Action.SAMPLE_REMOVED).exists()
    home = client.get(reverse("home")).content.decode()
    assert "Попробовать на примере" in home and "Удалить пример" not in home


def test_only_an_admin_adds_or_removes_the_sample(client, alpha):
    for person in (alpha.head, alpha.managers[0]):
        client.force_login(person)
        assert client.post(reverse("sample-add")).status_code == 403
        assert client.post(reverse("sample-remove"), {"confirm": "yes"}).status_code == 403
        assert "Попробовать на примере" not in client.get(reverse("home")).content.decode()
    assert not sample.sample_data_present(company=alpha.company)


@pytest.mark.django_db
def test_the_sample_does_not_tick_the_checklist():
    company, admin = _open_company()
    with tenancy.tenant_context(company):
        sample.sample_data_add(company=company, actor=admin)
    company.refresh_from_db()
    with tenancy.tenant_context(company):
        state = {item.key: item.done for item in selectors.setup_checklist(company=company)}
        assert state["team"] is False and state["plans"] is False
        with pytest.raises(sample.SampleError):
            sample.sample_data_add(company=company, actor=admin)
