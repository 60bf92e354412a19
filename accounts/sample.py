"""«Попробовать на примере»: a sample team with a few weeks of history in a real company,
and the one click that removes it.

The sample is its people (User.is_sample) and what hangs off them: reports and their
values, plans, absences, telephony figures, team memberships, the team they head. It
reuses the company's own sales roles and KPIs, so removing the people removes exactly the
sample and nothing the admin made.
"""

import random
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions, tenancy
from accounts.audit import audit_record
from accounts.demo import DemoManager, team_with_history, totals_rebuild
from accounts.models import AuditEvent, Company, SalesRole, Team, User

# Enough for the dashboard to show a month and its comparison with the previous one.
SAMPLE_HISTORY_DAYS = 45
SAMPLE_TEAM = "Пример: отдел продаж"
SAMPLE_HEAD = ("head", "Ольга", "Смирнова (пример)")
SAMPLE_MANAGERS = [
    ("ivanov", "Иван", "Иванов (пример)", "hunter", 1.08, 0.97),
    ("petrova", "Анна", "Петрова (пример)", "hunter", 0.86, 0.93),
    ("orlova", "Мария", "Орлова (пример)", "closer", 0.95, 0.96),
    ("volkov", "Дмитрий", "Волков (пример)", "closer", 0.68, 0.90),
    ("lebedeva", "Елена", "Лебедева (пример)", "farmer", 0.90, 0.95),
]


class SampleError(Exception):
    """Why the sample cannot be added (shown to the admin as it is)."""


def sample_data_present(*, company: Company) -> bool:
    with tenancy.tenant_context(company):
        return User.objects.filter(company=company, is_sample=True).exists()


def sample_data_add(*, company: Company, actor: User) -> list[User]:
    """Adds the sample team to `company`; returns its people (the head first)."""
    permissions.require_configure(actor)
    with tenancy.tenant_context(company), transaction.atomic():
        if User.objects.filter(company=company, is_sample=True).exists():
            raise SampleError(_("Пример уже добавлен."))
        kinds = set(SalesRole.objects.filter(company=company).values_list("kind", flat=True))
        people = [m for m in SAMPLE_MANAGERS if m[3] in kinds]
        if not people:
            raise SampleError(
                _("В компании нет стандартных ролей в продажах: пример не на чем построить.")
            )
        login = _login_maker(company)
        # Nobody logs in as the sample's people: a long random password nobody knows.
        password = secrets.token_urlsafe(24)
        head, managers = team_with_history(
            company,
            team_name=_free_team_name(company),
            head=(login(SAMPLE_HEAD[0]), *SAMPLE_HEAD[1:]),
            managers=[DemoManager(login(m[0]), *m[1:]) for m in people],
            password=password,
            actor=actor,
            today=company.today(),
            rng=random.Random(f"sample-{company.pk}"),  # noqa: S311 - demo figures
            is_sample=True,
            history_days=SAMPLE_HISTORY_DAYS,
        )
        audit_record(
            company=company,
            action=AuditEvent.Action.SAMPLE_ADDED,
            target=_("%(count)s сотрудников") % {"count": len(managers) + 1},
            actor=actor,
        )
    totals_rebuild(company)
    return [head, *(user for user, _m in managers)]


def sample_data_remove(*, company: Company, actor: User) -> int:
    """Removes the sample's people and everything of theirs; returns how many people."""
    permissions.require_configure(actor)
    with tenancy.tenant_context(company), transaction.atomic():
        people = User.objects.filter(company=company, is_sample=True)
        count = people.count()
        if not count:
            return 0
        # The team the sample made is headed by the sample's head; a person of the admin's
        # own the admin put in it stays, teamless (User.team is SET_NULL).
        Team.objects.filter(company=company, head__in=people).delete()
        people.delete()
        audit_record(
            company=company,
            action=AuditEvent.Action.SAMPLE_REMOVED,
            target=_("%(count)s сотрудников") % {"count": count},
            actor=actor,
        )
    totals_rebuild(company)
    return count


def _login_maker(company: Company):  # type: ignore[no-untyped-def]
    """Logins in the company's namespace (accounts.services._check_login_free), free
    overall: a company without a namespace gets its own code in them."""
    if company.login_prefix:
        return lambda name: f"{company.login_prefix}.sample-{name}"
    return lambda name: f"sample-{company.code.hex[:8]}-{name}"


def _free_team_name(company: Company) -> str:
    name, n = SAMPLE_TEAM, 1
    while Team.objects.filter(company=company, name=name).exists():
        n += 1
        name = f"{SAMPLE_TEAM} {n}"
    return name
