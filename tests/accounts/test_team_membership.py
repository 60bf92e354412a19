"""Who was in which team when: user_update keeps `User.team` and the stays in step."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection

from accounts import services, tenancy
from accounts.models import TeamMembership, User
from tests.factories import CompanyFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def stays(user: User) -> list[tuple[int, datetime.date | None, datetime.date | None]]:
    rows = TeamMembership.objects.filter(company_id=user.company_id, user=user)
    return list(rows.order_by("id").values_list("team_id", "effective_from", "effective_to"))


@pytest.fixture
def office():
    company = CompanyFactory()
    admin = UserFactory(company=company, role=User.Role.ADMIN)
    first, second = TeamFactory(company=company), TeamFactory(company=company)
    manager = UserFactory(company=company, team=first)
    with tenancy.tenant_context(company):
        yield company, admin, first, second, manager


def test_a_new_manager_is_in_her_team_since_joining(office):
    _company, _admin, first, _second, manager = office
    assert stays(manager) == [(first.pk, None, None)]


def test_a_move_closes_the_old_stay_on_the_companys_today_and_opens_the_new(office):
    company, admin, first, second, manager = office
    today = company.local_time().date()
    services.user_update(user=manager, actor=admin, team=second)
    assert stays(manager) == [(first.pk, None, today), (second.pk, today, None)]
    services.user_update(user=manager, actor=admin, team=None)
    # Joined and left the same day: no day was spent in the second team.
    assert stays(manager) == [(first.pk, None, today)]
    services.user_update(user=manager, actor=admin, team=first)
    # Back the same day: the first stay simply goes on.
    assert stays(manager) == [(first.pk, None, None)]


def test_a_manager_made_around_the_service_keeps_her_history_when_moved(office):
    company, admin, first, second, manager = office
    TeamMembership.objects.filter(user=manager).delete()
    today = company.local_time().date()
    services.user_update(user=manager, actor=admin, team=second)
    assert stays(manager) == [(first.pk, None, today), (second.pk, today, None)]


def test_the_migration_puts_everyone_in_their_team_all_along(office):
    company, _admin, first, _second, manager = office
    other = UserFactory(company=company, team=None)
    TeamMembership.objects.all().delete()
    migration = importlib.import_module("accounts.migrations.0010_team_membership")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    with tenancy.tenant_context(None):
        migration.memberships_from_teams(apps, editor)
    with tenancy.tenant_context(company):
        assert stays(manager) == [(first.pk, None, None)]
        assert stays(other) == []
