"""The application layer: tenant data is reachable only scoped to the active company."""

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from accounts import services, tenancy
from accounts.models import SalesRole, Team, TenantModel, User
from tests.factories import UserFactory

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_it_raises_without_a_company(model):
    with pytest.raises(tenancy.NoCompanyError):
        model.objects.all()


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_every_query_is_filtered_to_the_active_company(model):
    # Asserted on the SQL itself, so that the test fails when the app-level filter is
    # removed even though row-level security would still hide the rows.
    with tenancy.tenant_context(4242):
        sql = str(model.objects.all().query)
    column = f'"{model._meta.db_table}"."company_id"'
    assert f"{column} = 4242" in sql


def test_objects_of_another_company_are_invisible(alpha, beta):
    with tenancy.tenant_context(alpha.company):
        usernames = set(User.objects.values_list("username", flat=True))
        assert "alpha.admin" in usernames
        assert not any(name.startswith("beta.") for name in usernames)
        assert not Team.objects.filter(pk=beta.team.pk).exists()


def test_a_row_cannot_reference_another_company(alpha, beta):
    with tenancy.tenant_context(alpha.company):
        hunter = SalesRole.objects.get(company=alpha.company, kind=SalesRole.Kind.HUNTER)
        with pytest.raises(ValidationError, match="другой компании"):
            services.user_create(
                company=alpha.company,
                username="alpha.crossover",
                password="x-long-password",
                team=beta.team,
                sales_role=hunter,
            )
        manager = User.objects.get(pk=alpha.manager.pk)
        manager.team_id = beta.team.pk  # an id alone, not a loaded object
        with pytest.raises(ValidationError, match="другой компании"):
            manager.save()


def test_nested_contexts_restore_the_outer_company(alpha, beta):
    with tenancy.tenant_context(alpha.company):
        with tenancy.tenant_context(beta.company):
            assert set(Team.objects.values_list("company_id", flat=True)) == {beta.company.pk}
        assert set(Team.objects.values_list("company_id", flat=True)) == {alpha.company.pk}
    assert tenancy.active_company_id() is None


def test_logins_are_unique_across_companies(alpha, beta):
    # Refused as outside beta's namespace: nothing about alpha.admin is said.
    with tenancy.tenant_context(beta.company), pytest.raises(ValidationError, match="beta\\."):
        UserFactory(company=beta.company, username="alpha.admin")


def test_the_managers_condition_is_the_filter_it_stands_for(alpha):
    """TenantManager builds `company_id = <active>` directly (it is asked ~10× a page): the
    same SQL as `.filter(company_id=…)`, alone and combined with other filters."""
    from django.db.models import Q

    from kpi.models import KPI
    from reports.models import DailyReport

    with tenancy.tenant_context(alpha.company):
        for model in (KPI, DailyReport):
            plain = model._base_manager.filter(company_id=alpha.company.pk)
            assert str(model.objects.all().query) == str(plain.query)
            more = Q(pk__in=[1, 2]) | Q(company__name="x")
            assert str(model.objects.filter(more).order_by("pk").query) == str(
                plain.filter(more).order_by("pk").query
            )
        assert list(DailyReport.objects.values_list("pk", flat=True).order_by("pk")) == list(
            DailyReport._base_manager.filter(company_id=alpha.company.pk)
            .values_list("pk", flat=True)
            .order_by("pk")
        )
