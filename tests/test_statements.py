"""salesdesk.statements: a queryset compiled once per shape gives what the queryset gives."""

import datetime
import threading

import pytest
from django.db import connections
from django.db.models import Count
from django.db.models.sql.compiler import SQLCompiler
from django.test import override_settings
from django.utils import timezone

from accounts import tenancy
from accounts.models import Team, User
from salesdesk.statements import Statement, StatementError
from webhooks.models import Subscription

USERS = Statement(
    lambda ids, joined_before: (
        User.objects.filter(pk__in=ids, date_joined__lt=joined_before)
        .order_by("pk")
        .values_list("pk", "username")
    )
)
TEAMS = Statement(
    lambda name, active: (
        Team.objects.filter(name=name)
        .annotate(people=Count("members"))
        .filter(**({"members__is_active": True} if active else {}))
        .order_by("pk")
    )
)


def later() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=1)


def test_the_rows_are_the_querysets_for_each_company_and_list(alpha, beta):
    for cast in (alpha, beta):
        everyone = [cast.admin, cast.head, *cast.managers]
        with tenancy.tenant_context(cast.company):
            for people in (everyone, everyone[:2], [everyone[0], everyone[0]]):
                ids = [u.pk for u in people]
                assert USERS(ids=ids, joined_before=later()) == list(
                    User.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "username")
                )
            # Another company's ids: nothing, as the company is the active one's, not the
            # company of the first call's.
            other = alpha if cast is beta else beta
            assert USERS(ids=[other.admin.pk], joined_before=later()) == []


def test_model_instances_and_annotations_come_back(alpha):
    with tenancy.tenant_context(alpha.company):
        for active in (True, False):
            teams = TEAMS(name=alpha.team.name, active=active)
            plain = list(TEAMS.build(name=alpha.team.name, active=active))
            assert [(t.pk, t.name, t.company_id, t.people) for t in teams] == [
                (t.pk, t.name, t.company_id, t.people) for t in plain
            ]
            assert [t.pk for t in teams] == [alpha.team.pk]
            assert teams[0].people > 0


@override_settings(STATEMENTS_CHECK=False)
def test_a_second_call_of_a_shape_compiles_nothing(alpha, monkeypatch):
    statement = Statement(lambda ids: User.objects.filter(pk__in=ids).values_list("pk", flat=True))
    compiled = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    with tenancy.tenant_context(alpha.company):
        assert set(statement(ids=[alpha.admin.pk, alpha.head.pk])) == {
            alpha.admin.pk,
            alpha.head.pk,
        }
        assert len(compiled) == 1
        assert set(statement(ids=[alpha.head.pk, alpha.managers[0].pk])) == {
            alpha.head.pk,
            alpha.managers[0].pk,
        }
        assert len(compiled) == 1  # the same shape: no compiling
        assert statement(ids=[alpha.admin.pk]) == [alpha.admin.pk]
        assert len(compiled) == 2  # one id: another shape


def test_an_empty_list_runs_the_queryset_as_built(alpha):
    with tenancy.tenant_context(alpha.company):
        assert USERS(ids=[], joined_before=later()) == []


def test_a_builder_that_reads_the_clock_fails_the_check(alpha):
    statement = Statement(
        lambda ids: User.objects.filter(pk__in=ids, date_joined__lt=timezone.now())
    )
    with tenancy.tenant_context(alpha.company), pytest.raises(StatementError, match="plain SQL"):
        statement(ids=[alpha.admin.pk])


def test_a_value_the_builder_transforms_is_refused(alpha):
    statement = Statement(lambda name: User.objects.filter(username__icontains=name))
    refused = pytest.raises(StatementError, match="changed on its way")
    with tenancy.tenant_context(alpha.company), refused:
        statement(name="alpha")


def test_no_company_is_no_company(alpha):
    with pytest.raises(tenancy.NoCompanyError):
        USERS(ids=[alpha.admin.pk], joined_before=later())


def test_another_thread_runs_it_on_its_own_connection(alpha):
    """A statement compiled in one thread and run in another (a threaded server, the tests'
    live server) uses the running thread's connection: Django refuses a connection made in
    another thread, and its transaction is not this one's."""
    ids = [alpha.admin.pk, alpha.head.pk]
    with tenancy.tenant_context(alpha.company):
        assert len(USERS(ids=ids, joined_before=later())) == 2  # compiled here
    found: dict = {}

    def run() -> None:
        try:
            with tenancy.tenant_context(alpha.company):
                found["rows"] = USERS(ids=ids, joined_before=later())
        except Exception as error:  # reported to the test below
            found["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert "error" not in found, found.get("error")
    # The other connection cannot see this test's uncommitted rows: it is not this one.
    assert found["rows"] == []


def test_a_column_with_a_converter_comes_back_converted(alpha):
    """A JSON column needs Django's converter: such a statement's rows go through the
    queryset's iterable, not the driver's rows as they are."""
    events = Statement(
        lambda ids: (
            Subscription.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "events")
        )
    )
    with tenancy.tenant_context(alpha.company):
        ids = list(Subscription.objects.values_list("pk", flat=True))
        found = events(ids=ids)
        assert found == list(events.build(ids=ids))
        assert found and all(isinstance(row[1], list) for row in found)
