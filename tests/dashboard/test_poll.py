"""The open dashboard's poll answers 204 while nothing it shows has changed, and the new
figures as soon as a report, a total or the team does."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as account_services
from accounts import tenancy
from accounts.middleware import SESSION_COMPANY_KEY
from accounts.models import User
from accounts.selectors import managers_in_view
from dashboard.selectors import poll as poll_digest
from dashboard.selectors.poll import figures_state
from dashboard.views import STATE_HEADER
from kpi import services as kpi_services
from kpi.models import KPI
from kpi.periods import Window
from rollups import services as rollup_services
from rollups.models import Scope
from tests.conftest import PASSWORD, Cast, as_owner, plan_nodes, statements_with
from tests.dashboard.conftest import file_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_tick(monkeypatch):
    """The hourly tick would turn a 204 into a 200 if it fell inside a test; and nothing is
    remembered from an earlier run (a test database made anew repeats its ids, the worker's
    Redis database is kept)."""
    monkeypatch.setattr(poll_digest, "STATE_SECONDS", 10**9)
    cache.clear()


POLL = {"HX-Request": "true", "HX-Target": "figures", "HX-Trigger": "figures"}
FIGURES = {"calls": "40", "long_calls": "20", "leads": "2", "talk_time": "0:40:00"}


def stranger_in_another_team(alpha: Cast, today: datetime.date) -> User:
    """A manager of a second team with its own head; the day has begun in the first head's
    team (the company's first report of a day brings every team's total of it, with its
    silent managers' plans), and the cast's reports are all rolled up."""
    with tenancy.tenant_context(alpha.company):
        other_head = account_services.user_create(
            company=alpha.company, username="alpha.head2", password=PASSWORD, role=User.Role.HEAD
        )
        other = account_services.team_create(company=alpha.company, name="Вторая", head=other_head)
        stranger = account_services.user_create(
            company=alpha.company, username="alpha.stranger", password=PASSWORD, team=other,
            sales_role=alpha.managers[0].sales_role,
        )  # fmt: skip
        file_report(alpha, alpha.managers[0], today, FIGURES)
    rollup_services.rollup_run(company_id=alpha.company.pk)
    return stranger


def state_of(response) -> str:
    """The state the rendered block will poll with (its hx-headers)."""
    assert response.status_code == 200
    found = re.search(r"X-Figures-State&quot;: &quot;([0-9a-f]+)&quot;", response.content.decode())
    assert found, "the block carries no state"
    return found[1]


def poll(client, state: str, query: str = ""):
    return client.get(reverse("dashboard") + query, headers={**POLL, STATE_HEADER: state})


def test_a_poll_is_204_until_a_report_then_a_total_changes(client, alpha: Cast):
    client.force_login(alpha.head)
    today_query = "?period=day"  # the page opens on the last working day; today's is asked
    page = client.get(reverse("dashboard") + today_query)
    state = state_of(page)
    assert f"{STATE_HEADER}&quot;: &quot;{state}" in page.content.decode()
    assert poll(client, state, today_query).status_code == 204

    today = alpha.company.today()
    with tenancy.tenant_context(alpha.company):
        file_report(alpha, alpha.managers[0], today, FIGURES)
    changed = poll(client, state, today_query)  # the status is "submitted": sent again
    assert 'id="figures"' in changed.content.decode()
    state = state_of(changed)
    assert poll(client, state, today_query).status_code == 204

    rollup_services.rollup_run(company_id=alpha.company.pk)  # the totals it marked
    recomputed = poll(client, state, today_query)
    assert recomputed.status_code == 200 and "40" in recomputed.content.decode()
    assert poll(client, state_of(recomputed), today_query).status_code == 204


def test_only_the_blocks_own_poll_may_be_answered_204(client, alpha: Cast):
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    # A period or sort link inside the block inherits the header, not the trigger.
    link = client.get(
        reverse("dashboard") + "?period=month",
        headers={"HX-Request": "true", "HX-Target": "figures", STATE_HEADER: state},
    )
    assert link.status_code == 200 and 'id="figures"' in link.content.decode()
    # Another window polled with this window's state is another block.
    assert poll(client, state, "?period=month").status_code == 200
    assert poll(client, "stale").status_code == 200
    assert poll(client, "").status_code == 200
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the block in the other language
    assert poll(client, state).status_code == 200


def test_a_report_outside_the_heads_teams_leaves_the_poll_at_204(client, alpha: Cast):
    today = alpha.company.today()
    stranger = stranger_in_another_team(alpha, today)
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    admin = Client()
    with tenancy.tenant_context(alpha.company):
        admin.force_login(alpha.admin)  # the admin sees the whole company
    admin_state = state_of(admin.get(reverse("dashboard")))

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, stranger, today, FIGURES)
    rollup_services.rollup_run(company_id=alpha.company.pk)
    assert poll(client, state).status_code == 204
    assert poll(admin, admin_state).status_code == 200


def test_a_manager_joining_the_team_changes_the_state(client, alpha: Cast):
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    with tenancy.tenant_context(alpha.company):
        account_services.user_create(
            company=alpha.company, username="alpha.newcomer", password=PASSWORD, team=alpha.team,
            last_name="Новикова", sales_role=alpha.managers[0].sales_role,
        )  # fmt: skip
    answer = poll(client, state)
    assert answer.status_code == 200 and "Новикова" in answer.content.decode()


def test_the_state_expires_even_when_nothing_changed(alpha: Cast, monkeypatch):
    """Settings no total shows (a KPI's name) are not in the digest: they show within
    STATE_SECONDS, or at the next full page load."""
    monkeypatch.setattr(poll_digest, "STATE_SECONDS", 300)  # the real one, not no_tick's
    with tenancy.tenant_context(alpha.company):
        today = alpha.company.today()
        managers = list(managers_in_view(company=alpha.company, viewer=alpha.head))
        moment = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)

        def state(at: datetime.datetime) -> str:
            return figures_state(
                company=alpha.company, viewer=alpha.head, managers=managers,
                window=Window.around("week", today), today=today, variant="/dashboard/ ru", now=at,
            )  # fmt: skip

        seconds = [moment + datetime.timedelta(seconds=n) for n in range(0, 600, 10)]
        states = [state(at) for at in seconds]
        assert len(set(states)) in (2, 3)  # it turns every STATE_SECONDS, no more often
        assert all(a != b for a, b in zip(states, states[30:], strict=False))


def test_an_absence_from_today_changes_the_state(client, alpha: Cast):
    """The manager's status turns from "no report" to "absent": the block is sent again."""
    rollup_services.rollup_run(company_id=alpha.company.pk)
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    today = alpha.company.today()
    with tenancy.tenant_context(alpha.company):
        kpi_services.absence_create(
            company=alpha.company, manager=alpha.managers[2], kind="sick", start=today, end=today
        )
    rollup_services.rollup_run(company_id=alpha.company.pk)
    answer = poll(client, state)
    assert answer.status_code == 200 and "отсутствует" in answer.content.decode()


def test_an_unchanged_poll_costs_only_the_sessions_query(client, alpha: Cast):
    """Nothing marked or rolled up since the page: the poll is answered from the session and
    the cache (PollShortcutMiddleware): the session's row is its one query; a report turns
    the figures version."""
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    with CaptureQueriesContext(connection) as unchanged:
        assert poll(client, state).status_code == 204
    # No transaction, no tenant, no user, no view: the session alone.
    queries = [q["sql"] for q in unchanged.captured_queries]
    assert len(queries) == 1 and "django_session" in queries[0], queries

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, alpha.managers[0], alpha.company.today(), FIGURES)
    with CaptureQueriesContext(connection) as changed:
        answer = poll(client, state)
    assert answer.status_code == 200 and len(changed) > 5
    state = state_of(answer)
    assert poll(client, state).status_code == 204


def test_a_logged_out_poll_goes_to_the_login_page(client, alpha: Cast):
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    client.post(reverse("logout"))
    answer = poll(client, state)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


def test_a_new_password_ends_the_polls_of_the_other_sessions(client, alpha: Cast):
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    with tenancy.tenant_context(alpha.company):
        head = User.objects.get(pk=alpha.head.pk)
        head.set_password("Another-Secret-2026")
        head.save(update_fields=["password"])
    answer = poll(client, state)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("change", ["deactivated", "now a manager", "company suspended"])
def test_a_head_who_may_no_longer_see_the_dashboard_is_not_answered_204(
    client, alpha: Cast, change: str
):
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    with tenancy.tenant_context(alpha.company):
        head = User.objects.get(pk=alpha.head.pk)
        if change == "deactivated":
            head.is_active = False
            head.save()
        elif change == "now a manager":
            head.role = User.Role.MANAGER
            head.save()
        else:
            account_services.company_suspend(company=alpha.company)
    answer = poll(client, state)
    assert answer.status_code in (302, 403), answer.status_code


def test_a_session_of_another_company_never_gets_the_remembered_answer(
    client, alpha: Cast, beta: Cast
):
    """The remembered state is the viewer's in their company: a session that names another
    company (however it came to) goes the whole way, and finds no such user there."""
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    session = client.session
    session[SESSION_COMPANY_KEY] = beta.company.pk
    session.save()
    answer = poll(client, state)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


def test_a_report_in_another_team_leaves_the_heads_poll_a_cache_read(client, alpha: Cast):
    """Versions per subject (rollups.services.figures_version_bump): a report and its rollup
    in another team turn the company scope's version and that team's, none of this head's,
    so their poll is answered by the middleware without a query of its own; the admin's,
    who sees the whole company, and a report in the head's own team still go the whole way."""
    today = alpha.company.today()
    stranger = stranger_in_another_team(alpha, today)
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    admin = Client()
    with tenancy.tenant_context(alpha.company):
        admin.force_login(alpha.admin)
    admin_state = state_of(admin.get(reverse("dashboard")))

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, stranger, today, FIGURES)
    rollup_services.rollup_run(company_id=alpha.company.pk)
    with CaptureQueriesContext(connection) as answered:
        assert poll(client, state).status_code == 204
    queries = [q["sql"] for q in answered.captured_queries]
    assert len(queries) == 1 and "django_session" in queries[0], queries
    assert poll(admin, admin_state).status_code == 200

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, alpha.managers[1], today, FIGURES)
    with CaptureQueriesContext(connection) as own:
        answer = poll(client, state)
    assert answer.status_code == 200 and len(own) > 5


def test_a_marking_and_its_rollup_turn_their_subjects_versions_and_no_others(alpha: Cast):
    """The one home of the versions: _buckets_mark and the rollup's release turn the
    subjects they touched (and the company scope's), never another team's; a saved team or
    user turns the company's version, which every open dashboard reads."""
    company = alpha.company
    with tenancy.tenant_context(company):
        other = account_services.team_create(company=company, name="Вторая")
    keys = {
        "company": rollup_services.figures_version_key(company.pk),
        "scope": rollup_services.figures_version_key(company.pk, Scope.COMPANY, company.pk),
        "team": rollup_services.figures_version_key(company.pk, Scope.TEAM, alpha.team.pk),
        "other": rollup_services.figures_version_key(company.pk, Scope.TEAM, other.pk),
        "manager": rollup_services.figures_version_key(
            company.pk, Scope.MANAGER, alpha.managers[0].pk
        ),
        "colleague": rollup_services.figures_version_key(
            company.pk, Scope.MANAGER, alpha.managers[1].pk
        ),
    }

    def versions() -> dict[str, str | None]:
        return {name: cache.get(key) for name, key in keys.items()}

    rollup_services.rollup_run(company_id=company.pk)
    before = versions()
    with tenancy.tenant_context(company):
        file_report(alpha, alpha.managers[0], company.today(), FIGURES)
    marked = versions()
    turned = {name for name in keys if marked[name] != before[name]}
    # The company's first report of the day also marks every other team's day (their plans).
    assert {"scope", "team", "manager"} <= turned and not turned & {"colleague", "company"}

    rollup_services.rollup_run(company_id=company.pk)
    rolled = versions()
    assert {name for name in keys if rolled[name] != marked[name]} >= {"scope", "team", "manager"}
    assert rolled["colleague"] == marked["colleague"] and rolled["company"] == marked["company"]

    with tenancy.tenant_context(company):
        other.name = "Третья"
        other.save()
    assert cache.get(keys["company"]) != rolled["company"]


def test_the_page_reuses_the_remembered_state_until_a_version_turns(
    client, alpha: Cast, monkeypatch
):
    """The page (every few polls) and a poll that sent an older state skip figures_state
    while none of the block's versions has turned, and compute it afresh once one has."""
    from dashboard import views

    computed = []

    def counted(**kwargs):
        computed.append(kwargs["viewer"].pk)
        return figures_state(**kwargs)

    monkeypatch.setattr(views, "figures_state", counted)
    client.force_login(alpha.head)
    first = state_of(client.get(reverse("dashboard")))
    again = client.get(reverse("dashboard"))
    assert state_of(again) == first and len(computed) == 1
    assert poll(client, "older").status_code == 200 and len(computed) == 1

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, alpha.managers[0], alpha.company.today(), FIGURES)
    rollup_services.rollup_run(company_id=alpha.company.pk)
    assert state_of(client.get(reverse("dashboard"))) != first and len(computed) == 2


def test_a_renamed_kpi_shows_on_the_next_poll(client, alpha: Cast):
    """A KPI's name is in no total: saving it turns the company's version, which the state
    carries, so the open dashboard shows the new name at its next poll (it used to wait for
    the state's tick or a page load)."""
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    assert poll(client, state).status_code == 204
    with tenancy.tenant_context(alpha.company):
        kpi = KPI.objects.get(company=alpha.company, code="calls")
        kpi_services.kpi_update(kpi=kpi, name_ru="Звонки клиентам")
    renamed = poll(client, state)
    assert renamed.status_code == 200 and "Звонки клиентам" in renamed.content.decode()
    assert poll(client, state_of(renamed)).status_code == 204


def test_a_new_release_re_renders_the_open_block(client, alpha: Cast, monkeypatch):
    """The release is part of the block's variant: after a deploy (a template changed), the
    open dashboard's next poll draws the block anew instead of keeping the old markup."""
    client.force_login(alpha.head)
    state = state_of(client.get(reverse("dashboard")))
    assert poll(client, state).status_code == 204
    monkeypatch.setattr(poll_digest, "release", lambda: "the-next-release")
    assert poll(client, state).status_code == 200


def _block(page) -> str:
    html = page.content.decode()
    start = html.index('<div id="figures"')
    return html[start : html.index('<aside id="explain"', start)]


def test_the_page_draws_the_block_its_poll_drew_until_a_figure_in_it_changes(
    client, alpha: Cast, monkeypatch
):
    """The figures block rendered at a state is kept for the viewer's page: reloaded at the
    same state, the page draws it without rendering it, the same bytes as a fresh render;
    once a report and its rollup change the state, the page renders the new figures."""
    from dashboard import views

    rendered = []

    def counted(name, context, request):
        rendered.append(name)
        return render_to_string(name, context, request)

    monkeypatch.setattr(views, "render_to_string", counted)
    client.force_login(alpha.head)
    today_query = "?period=day"
    first = client.get(reverse("dashboard") + today_query)
    assert len(rendered) == 1
    again = client.get(reverse("dashboard") + today_query)
    assert len(rendered) == 1 and _block(again) == _block(first)
    with monkeypatch.context() as forgotten:  # no block remembered: rendered afresh, the same
        forgotten.setattr(views, "block_remembered", lambda **kwargs: None)
        fresh = client.get(reverse("dashboard") + today_query)
    assert len(rendered) == 2 and _block(fresh) == _block(first)

    with tenancy.tenant_context(alpha.company):
        file_report(alpha, alpha.managers[0], alpha.company.today(), FIGURES)
    rollup_services.rollup_run(company_id=alpha.company.pk)
    changed = client.get(reverse("dashboard") + today_query)
    assert len(rendered) == 3 and state_of(changed) != state_of(first)
    assert _block(changed) != _block(first)
    # A poll at the page's state is 204; at the older one, the block the page drew.
    assert poll(client, state_of(changed), today_query).status_code == 204
    older = poll(client, state_of(first), today_query)
    assert len(rendered) == 3 and older.content.decode().strip() in _block(changed)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewer", ["head", "admin"])
def test_the_state_reads_the_buckets_of_its_spans_not_the_history(alpha: Cast, viewer):
    """The state's read of buckets (poll._buckets) reads those of the spans the block shows
    and compares, by each subject's buckets by their end: a year of older history (400
    days of day buckets of every manager and team in view, rolled up) is not read."""
    viewer = getattr(alpha, viewer)
    with tenancy.tenant_context(alpha.company):
        today = alpha.company.today()
        managers = list(managers_in_view(company=alpha.company, viewer=viewer))
        subjects = [(Scope.MANAGER, m.pk) for m in managers]
        subjects += [(Scope.TEAM, m.team_id) for m in managers if m.team_id]
        subjects += [(Scope.COMPANY, alpha.company.pk)]
        with connection.cursor() as cursor:
            for scope, subject in sorted(set(subjects)):
                cursor.execute(
                    """INSERT INTO rollups_bucket (company_id, scope, subject_id, period,
                        start, "end", marks, done, claimed_by, claimed_marks)
                    SELECT %s, %s, %s, 'day', d, d, 1, 1, '', 0
                    FROM generate_series(%s::date, %s::date, '1 day') d""",
                    [alpha.company.pk, scope, subject, today - datetime.timedelta(days=830),
                     today - datetime.timedelta(days=430)],
                )  # fmt: skip
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE rollups_bucket")
    with tenancy.tenant_context(alpha.company), statements_with("rollups_bucket") as read:
        figures_state(
            company=alpha.company, viewer=viewer, managers=managers,
            window=Window.around("day", today), today=today, variant="/dashboard/ ru",
        )  # fmt: skip
    [(sql, params)] = read
    with tenancy.tenant_context(alpha.company), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]

    # The index entries and rows the plan read: the spans' own buckets are a few dozen; the
    # history is 401 a subject.
    scanned = sum(
        node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        for node in plan_nodes(plan[0]["Plan"])
        if "Index Name" in node or node.get("Relation Name") == "rollups_bucket"
    )
    assert scanned < 400, plan
