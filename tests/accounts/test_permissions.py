"""Every write, every role: the page and the API give the same answer, because the service
decides (accounts/permissions.py). A write only a page offers is held against the service.

Outcomes: "ok" (written), "403" (refused, with the reason), "absent" (another company's
object: not found, or a reference the caller's company does not have).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts import permissions, tenancy
from accounts import services as account_services
from accounts.models import Team, User
from crm_sync.models import Call
from kpi import selectors as kpi_selectors
from kpi import services as kpi_services
from kpi.models import KPI, Absence, CalendarDay, Plan
from quality import services as quality_services
from quality.models import CallType
from reports import services as report_services
from reports.models import ClosedMonth, DailyReport
from tests.conftest import Cast, TenantClient
from tests.factories import TeamFactory, UserFactory

ROLES = ("admin", "head", "other_head", "manager", "quality", "outsider")
OK, DENIED, ABSENT = "ok", "403", "absent"
ADMIN_ONLY = {
    "admin": OK, "head": DENIED, "other_head": DENIED, "manager": DENIED, "quality": DENIED,
    "outsider": ABSENT,
}  # fmt: skip
# A write that creates in the caller's own company names nothing of another company's.
ADMIN_ONLY_OWN = {**ADMIN_ONLY, "outsider": None}
TEAM_HEAD = {**ADMIN_ONLY, "head": OK}
SCORERS = {**TEAM_HEAD, "quality": OK}
HEADS = {**TEAM_HEAD, "other_head": OK, "outsider": None}


@dataclass
class World:
    alpha: Cast
    actors: dict[str, User]
    pages: dict[str, Client]
    apis: dict[str, Client]
    today: datetime.date
    # What the requests name, read once inside the company (a request runs in its own).
    ref: dict[str, object]

    def kpi(self, code: str) -> KPI:
        return KPI.objects.get(company=self.alpha.company, code=code)


@pytest.fixture
def world(alpha: Cast, beta: Cast) -> World:
    with tenancy.tenant_context(alpha.company):
        other_head = UserFactory(company=alpha.company, username="alpha.head2", role=User.Role.HEAD)
        TeamFactory(company=alpha.company, name="Альфа: вторая команда", head=other_head)
    actors = {
        "admin": alpha.admin,
        "head": alpha.head,
        "other_head": other_head,
        "manager": alpha.managers[1],  # a colleague of the manager whose data is written
        "quality": alpha.quality,
        "outsider": beta.admin,
    }
    pages, apis = {}, {}
    for role, actor in actors.items():
        pages[role] = TenantClient()
        pages[role].force_login(actor)
        with tenancy.tenant_context(actor.company):
            _token, key = account_services.api_token_create(user=actor, name="table")
        apis[role] = Client(headers={"Authorization": f"Token {key}"})
    today = alpha.company.local_time().date()
    w = World(alpha, actors, pages, apis, today, {})
    with tenancy.tenant_context(alpha.company):
        report, call_type, spare = _report(w), _call_type(w), _spare_kpi(w)
        w.ref.update(
            calls_uid=w.kpi("calls").uid,
            report_code=report.code,
            report_version=report.version,
            role_code=alpha.manager.sales_role.code,
            spare_pk=spare.pk,
            spare_code=spare.code,
            call_code=_call(w).code,
            type_code=call_type.code,
            items=[str(i.pk) for i in call_type.items.filter(active=True)],
            closed=_closed(w),
        )
    return w


@dataclass
class Write:
    expected: dict[str, str | None]
    page: Callable[[World, Client], object]
    effect: Callable[[World], bool]
    api: Callable[[World, Client], object] | None = None
    # For a write only a page offers: the service called as the actor.
    service: Callable[[World, User], object] | None = None


def _plan_cell(w: World, c: Client, **target: str) -> object:
    a = w.alpha
    url = reverse("plan-cell", args=[a.team.code, w.today.year, w.today.month])
    data = {"kpi": w.ref["calls_uid"], "value": "777", **target}
    return c.post(url, data, HTTP_HX_REQUEST="1")


def _plan_api(w: World, c: Client, **target: str) -> object:
    data = {"kpi": "calls", "start": w.today.isoformat(), "value": "777", **target}
    return c.post(reverse("api-plan-set"), data, content_type="application/json")


def _plan_is(w: World, **target: object) -> bool:
    return Plan.objects.filter(
        company=w.alpha.company, kpi__code="calls", value=777, **target
    ).exists()


def _report(w: World) -> DailyReport:
    return DailyReport.objects.get(company=w.alpha.company, manager=w.alpha.manager)


def _figures() -> dict[str, str]:
    return {"calls": "99", "long_calls": "20", "talk_time": "1:10:00", "leads": "4"}


def _last_month(w: World) -> datetime.date:
    return (w.today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _closed(w: World) -> datetime.date:
    return ClosedMonth.objects.filter(company=w.alpha.company).order_by("month").first().month


def _call(w: World) -> Call:
    return Call.objects.get(company=w.alpha.company, external_id="c1")


def _call_type(w: World) -> CallType:
    return CallType.objects.filter(company=w.alpha.company, active=True).first()


def _spare_kpi(w: World) -> KPI:
    role = w.alpha.manager.sales_role
    taken = {
        k.pk
        for k in kpi_selectors.role_kpis_on(company=w.alpha.company, sales_role=role, on=w.today)
    }
    return (
        KPI.objects.filter(company=w.alpha.company, aggregation=KPI.Aggregation.SUM)
        .exclude(pk__in=taken)
        .order_by("code")
        .first()
    )


KPI_FORM = {
    "code": "visits", "name_ru": "Визиты", "name_en": "Visits", "unit": "count",
    "direction": "higher", "aggregation": "sum", "source": "manual", "decimals": "0",
}  # fmt: skip


def _user_form(w: World, **changes: str) -> dict[str, str]:
    m = w.alpha.manager
    return {
        "first_name": m.first_name or "Иван", "last_name": "Новиков", "email": "",
        "username": m.username, "role": "manager", "team": str(w.alpha.team.pk),
        "sales_role": str(m.sales_role_id), "is_active": "on", **changes,
    }  # fmt: skip


WRITES: dict[str, Write] = {
    "plan of a manager": Write(
        TEAM_HEAD,
        page=lambda w, c: _plan_cell(w, c, manager=w.alpha.manager.code),
        api=lambda w, c: _plan_api(w, c, manager=str(w.alpha.manager.code)),
        effect=lambda w: _plan_is(w, manager=w.alpha.manager),
    ),
    "plan of a role (its default)": Write(
        ADMIN_ONLY,
        page=lambda w, c: _plan_cell(w, c, role=w.ref["role_code"]),
        api=lambda w, c: _plan_api(w, c, sales_role=str(w.ref["role_code"])),
        effect=lambda w: _plan_is(w, sales_role=w.alpha.manager.sales_role),
    ),
    "correction of a past day's report": Write(
        TEAM_HEAD,
        page=lambda w, c: c.post(
            reverse("report-detail", args=[w.ref["report_code"]]),
            {**_figures(), "version": w.ref["report_version"], "reason": "звонки из АТС"},
        ),
        api=lambda w, c: c.post(
            reverse("api-report-correct", args=[w.ref["report_code"]]),
            {
                "values": {**_figures(), "talk_time": "4200"},
                "version": w.ref["report_version"],
                "reason": "звонки из АТС",
                "confirmed": True,
            },
            content_type="application/json",
        ),
        effect=lambda w: _report(w).values.filter(kpi__code="calls", value=99).exists(),
    ),
    "closing a month": Write(
        HEADS,
        page=lambda w, c: c.post(
            reverse("close-month"), {"month": _last_month(w).isoformat(), "confirm": "yes"}
        ),
        service=lambda w, actor: report_services.month_close(
            company=w.alpha.company, month=_last_month(w), actor=actor
        ),
        effect=lambda w: ClosedMonth.objects.filter(
            company=w.alpha.company, month=_last_month(w)
        ).exists(),
    ),
    "reopening a month": Write(
        {**ADMIN_ONLY, "outsider": None},
        page=lambda w, c: c.post(
            reverse("reopen-month"), {"month": w.ref["closed"].isoformat(), "reason": "ошибка"}
        ),
        service=lambda w, actor: report_services.month_reopen(
            company=w.alpha.company, month=_closed(w), actor=actor, reason="ошибка"
        ),
        effect=lambda w: not ClosedMonth.objects.filter(company=w.alpha.company).exists(),
    ),
    "creating a KPI": Write(
        ADMIN_ONLY_OWN,
        page=lambda w, c: c.post(reverse("kpi-create"), KPI_FORM),
        api=lambda w, c: c.post(reverse("api-kpi-create"), KPI_FORM),
        effect=lambda w: KPI.objects.filter(company=w.alpha.company, code="visits").exists(),
    ),
    "changing a KPI": Write(
        ADMIN_ONLY,
        page=lambda w, c: c.post(
            reverse("kpi-edit", args=[w.ref["calls_uid"]]),
            {**KPI_FORM, "code": "calls", "name_ru": "Наборы"},
        ),
        api=lambda w, c: c.patch(
            reverse("api-kpi-update", args=[w.ref["calls_uid"]]),
            {"name_ru": "Наборы"},
            content_type="application/json",
        ),
        effect=lambda w: w.kpi("calls").name_ru == "Наборы",
    ),
    "adding a KPI to a role's set": Write(
        ADMIN_ONLY,
        page=lambda w, c: c.post(
            reverse("role-kpis", args=[w.ref["role_code"]]),
            {"action": "add", "kpi": w.ref["spare_pk"], "effective_from": w.today.isoformat()},
        ),
        api=lambda w, c: c.post(
            reverse("api-role-kpi-add", args=[w.ref["role_code"]]),
            {"kpi": w.ref["spare_code"], "effective_from": w.today.isoformat()},
        ),
        effect=lambda w: (
            len(
                kpi_selectors.role_kpis_on(
                    company=w.alpha.company, sales_role=w.alpha.manager.sales_role, on=w.today
                )
            )
            == 5
        ),
    ),
    "a calendar day": Write(
        ADMIN_ONLY_OWN,
        page=lambda w, c: c.post(
            reverse("calendar"), {"date": "2030-01-09", "is_working": "0", "note": "x"}
        ),
        service=lambda w, actor: kpi_services.calendar_day_set(
            company=w.alpha.company,
            date=datetime.date(2030, 1, 9),
            is_working=False,
            actor=actor,
        ),
        effect=lambda w: CalendarDay.objects.filter(
            company=w.alpha.company, date=datetime.date(2030, 1, 9)
        ).exists(),
    ),
    "an absence": Write(
        ADMIN_ONLY,
        page=lambda w, c: c.post(
            reverse("absences"),
            {
                "manager": w.alpha.manager.pk,
                "kind": "sick",
                "start": "2030-02-04",
                "end": "2030-02-05",
            },
        ),
        api=lambda w, c: c.post(
            reverse("api-absence-create"),
            {
                "manager": str(w.alpha.manager.code),
                "kind": "sick",
                "start": "2030-02-04",
                "end": "2030-02-05",
            },
        ),
        effect=lambda w: Absence.objects.filter(
            company=w.alpha.company, start=datetime.date(2030, 2, 4)
        ).exists(),
    ),
    "creating a user": Write(
        ADMIN_ONLY_OWN,
        page=lambda w, c: c.post(
            reverse("user-create"),
            {
                "first_name": "Пётр",
                "last_name": "Новый",
                "username": "alpha.new",
                "role": "quality",
                "password": "Xx-very-long-passphrase-42",
            },
        ),
        api=lambda w, c: c.post(
            reverse("api-user-create"),
            {
                "first_name": "Пётр",
                "last_name": "Новый",
                "username": "alpha.new",
                "role": "quality",
                "password": "Xx-very-long-passphrase-42",
            },
        ),
        effect=lambda w: User.objects.filter(
            company=w.alpha.company, username="alpha.new"
        ).exists(),
    ),
    "changing a user": Write(
        ADMIN_ONLY,
        page=lambda w, c: c.post(reverse("user-edit", args=[w.alpha.manager.code]), _user_form(w)),
        api=lambda w, c: c.patch(
            reverse("api-user-update", args=[w.alpha.manager.code]),
            {"last_name": "Новиков"},
            content_type="application/json",
        ),
        effect=lambda w: User.objects.get(pk=w.alpha.manager.pk).last_name == "Новиков",
    ),
    "creating a team": Write(
        ADMIN_ONLY_OWN,
        page=lambda w, c: c.post(reverse("team-create"), {"name": "Новая команда"}),
        api=lambda w, c: c.post(reverse("api-team-create"), {"name": "Новая команда"}),
        effect=lambda w: Team.objects.filter(
            company=w.alpha.company, name="Новая команда"
        ).exists(),
    ),
    "scoring a call": Write(
        SCORERS,
        page=lambda w, c: c.post(
            reverse("quality-score", args=[w.ref["call_code"]]),
            {
                "type": w.ref["type_code"],
                "done": w.ref["items"],
                "comment": "таблица",
            },
        ),
        service=lambda w, actor: quality_services.call_score_save(
            company=w.alpha.company,
            call=_call(w),
            call_type=_call_type(w),
            controller=actor,
            done_items={i.pk for i in _call_type(w).items.filter(active=True)},
            comment="таблица",
        ),
        effect=lambda w: _call(w).scores.filter(comment="таблица").exists(),
    ),
}


def _outcome(w: World, write: Write, response: object) -> str:
    status = response.status_code  # type: ignore[attr-defined]
    if status == 403:
        return DENIED
    if status == 404:
        return ABSENT
    with tenancy.tenant_context(w.alpha.company):
        if write.effect(w):
            return OK
    # Nothing written and neither 403 nor 404: a reference the caller's company lacks (400,
    # or a form shown again) is "absent"; anything else is reported with its status.
    return ABSENT if status in (200, 400, 422) else f"status {status}"


def _attempt(w: World, write: Write, run: Callable[[], object]) -> str:
    """Runs one attempt and rolls it back, so every attempt starts from the same data."""
    with transaction.atomic():
        try:
            return _outcome(w, write, run())
        finally:
            transaction.set_rollback(True)


def _service_outcome(w: World, write: Write, actor: User) -> str:
    with tenancy.tenant_context(w.alpha.company), transaction.atomic():
        try:
            write.service(w, actor)  # type: ignore[misc]
        except PermissionDenied:
            return DENIED
        finally:
            transaction.set_rollback(True)
    return OK


@pytest.mark.parametrize("name", list(WRITES))
def test_it_gives_each_role_the_same_answer_through_the_page_and_the_api(world, name):
    write = WRITES[name]
    wrong = []
    for role in ROLES:
        expected = write.expected[role]
        if expected is None:
            continue
        page = _attempt(world, write, lambda: write.page(world, world.pages[role]))
        if write.api is not None:
            other = _attempt(world, write, lambda: write.api(world, world.apis[role]))
            side = "api"
        elif role != "outsider":
            other = _service_outcome(world, write, world.actors[role])
            side = "service"
        else:
            other, side = expected, "-"
        if not page == other == expected:
            wrong.append(f"{role}: page {page}, {side} {other}, expected {expected}")
    assert not wrong, f"{name}: " + "; ".join(wrong)


def test_a_refusal_says_why_on_the_page_and_in_the_api(world):
    head = world.actors["head"]
    role_code = world.ref["role_code"]
    page = _plan_cell(world, world.pages["head"], role=role_code)
    api = _plan_api(world, world.apis["head"], sales_role=str(role_code))
    reason = "План роли по умолчанию действует во всех командах: его ставит администратор."
    assert page.status_code == api.status_code == 403
    assert reason in page.content.decode()
    assert api.json()["message"] == reason
    assert not permissions.may_plan_role_defaults(head)


def test_a_heads_grid_shows_the_role_default_without_a_field(world):
    a = world.alpha
    url = reverse("plan-grid", args=[a.team.code, world.today.year, world.today.month])
    head_page = world.pages["head"].get(url).content.decode()
    admin_page = world.pages["admin"].get(url).content.decode()
    role_field = f'name="role" value="{world.ref["role_code"]}"'
    assert role_field in admin_page
    assert role_field not in head_page


def test_in_view_of_is_each_roles_view(world):
    a = world.alpha
    with tenancy.tenant_context(a.company):
        everyone = set(User.objects.filter(company=a.company, role=User.Role.MANAGER))
        assert set(permissions.in_view_of(a.admin)) == everyone
        assert set(permissions.in_view_of(a.head)) == set(a.managers)
        assert set(permissions.in_view_of(world.actors["other_head"])) == set()
        assert set(permissions.in_view_of(a.manager)) == {a.manager}
        assert set(permissions.in_view_of(a.quality)) == set()
        assert set(permissions.scorable_by(a.quality)) == everyone
