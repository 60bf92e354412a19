"""The demo: two companies with teams and months of realistic daily reports.

Deterministic (seeded), so screenshots and numbers are the same on every machine.
"""

import datetime
import logging
import random
from dataclasses import dataclass
from decimal import Decimal

from accounts import services, tenancy
from accounts.models import Company, SalesRole, User
from clients.demo import demo_client_analysis
from crm_sync import services as crm_services
from crm_sync.demo import demo_deals_and_calls
from crm_sync.models import Deal
from kpi import services as kpi_services
from kpi.calendar import calendar_for
from kpi.models import KPI, Absence, Plan, RoleKPI
from kpi.periods import month_bounds
from payments.demo import WEEKS as PAYMENT_WEEKS
from payments.demo import demo_payments
from quality.demo import demo_quality
from reports.models import DailyReport, ImportedFigure, ReportValue
from rollups import services as rollups

DEMO_PASSWORD = "Demo-2026!"
HISTORY_DAYS = 150


@dataclass(frozen=True)
class DemoManager:
    username: str
    first_name: str
    last_name: str
    kind: str
    skill: float  # share of the plan this person tends to make
    reliability: float  # chance they file the report on a working day


@dataclass(frozen=True)
class DemoCompany:
    name: str
    prefix: str
    team: str
    head: tuple[str, str]
    admin: tuple[str, str]
    managers: list[DemoManager]


DEMO_COMPANIES = [
    DemoCompany(
        name="ООО «Вектор Продаж»",
        prefix="vector",
        team="Отдел продаж Москва",
        head=("Ольга", "Смирнова"),
        admin=("Игорь", "Кузнецов"),
        managers=[
            DemoManager("vector.ivanov", "Иван", "Иванов", "hunter", 1.08, 0.97),
            DemoManager("vector.petrova", "Анна", "Петрова", "hunter", 0.86, 0.93),
            DemoManager("vector.sidorov", "Павел", "Сидоров", "hunter", 0.55, 0.78),
            DemoManager("vector.orlova", "Мария", "Орлова", "closer", 0.95, 0.96),
            DemoManager("vector.volkov", "Дмитрий", "Волков", "closer", 0.68, 0.90),
            DemoManager("vector.lebedeva", "Елена", "Лебедева", "farmer", 0.90, 0.95),
            DemoManager("vector.morozov", "Сергей", "Морозов", "farmer", 0.74, 0.85),
        ],
    ),
    DemoCompany(
        name="ТД «Северный ветер»",
        prefix="sever",
        team="Отдел продаж Санкт-Петербург",
        head=("Андрей", "Николаев"),
        admin=("Татьяна", "Егорова"),
        managers=[
            DemoManager("sever.fedorov", "Алексей", "Фёдоров", "hunter", 0.98, 0.95),
            DemoManager("sever.popova", "Ольга", "Попова", "hunter", 0.62, 0.88),
            DemoManager("sever.sokolov", "Никита", "Соколов", "closer", 1.05, 0.97),
            DemoManager("sever.kozlova", "Ирина", "Козлова", "closer", 0.79, 0.92),
            DemoManager("sever.novikov", "Роман", "Новиков", "farmer", 0.88, 0.94),
            DemoManager("sever.zaitseva", "Юлия", "Зайцева", "farmer", 0.51, 0.80),
        ],
    ),
]

# A typical day of a manager who exactly meets the plan, per summed KPI; and the
# period-wide targets of the other KPIs.
DAY_PLAN = {
    "calls": 60,
    "long_calls": 25,
    "talk_time": 5400,
    "leads": 4,
    "meetings": 2,
    "deals_won": Decimal("0.6"),
    "deals_sum": 48000,
    # Revenue by payments (1C): what the closers' won deals bring in.
    "paid_sum": 48000,
    "repeat_deals": Decimal("0.5"),
    "repeat_sum": 25000,
}
PERIOD_TARGET = {
    "avg_check": 80000,
    "repeat_avg_check": 50000,
    "receivables": 400000,
}


def demo_logins() -> list[tuple[str, str, str]]:
    """(company, login, who) for the README and the command's output."""
    rows = []
    for spec in DEMO_COMPANIES:
        rows.append((spec.name, f"{spec.prefix}.admin", "администратор"))
        rows.append((spec.name, f"{spec.prefix}.head", "руководитель отдела продаж"))
        rows.extend((spec.name, m.username, f"менеджер ({m.kind})") for m in spec.managers)
        rows.append((spec.name, f"{spec.prefix}.quality", "контролёр качества"))
    return rows


def demo_load(*, reset: bool = False, today: datetime.date | None = None) -> list[Company]:
    companies = []
    for spec in DEMO_COMPANIES:
        existing = Company.objects.filter(name=spec.name).first()
        if existing and not reset:
            companies.append(existing)
            continue
        if existing:
            with tenancy.tenant_context(existing):
                existing.delete()
        companies.append(_load_company(spec, today))
    return companies


def _load_company(spec: DemoCompany, today: datetime.date | None) -> Company:
    rng = random.Random(spec.prefix)  # noqa: S311 - demo figures, not secrets
    company = services.company_create(name=spec.name, login_prefix=spec.prefix)
    today = today or company.today()
    with tenancy.tenant_context(company):
        admin = services.user_create(
            company=company,
            username=f"{spec.prefix}.admin",
            password=DEMO_PASSWORD,
            password_is_temporary=False,
            first_name=spec.admin[0],
            last_name=spec.admin[1],
            role=User.Role.ADMIN,
        )
        head, managers = team_with_history(
            company,
            team_name=spec.team,
            head=(f"{spec.prefix}.head", *spec.head),
            managers=spec.managers,
            password=DEMO_PASSWORD,
            actor=admin,
            today=today,
            rng=rng,
        )
        demo_deals_and_calls(
            company=company,
            managers=[(user, spec.skill) for user, spec in managers],
            today=today,
            history_days=HISTORY_DAYS,
            rng=rng,
        )
        _deal_figures_from_crm(company, managers, today, random.Random(f"{spec.prefix}-crm"))  # noqa: S311
        _revenue_by_payments(company, managers, today)
        demo_payments(company=company, today=today, rng=random.Random(f"{spec.prefix}-1c"))  # noqa: S311
        controller = services.user_create(
            company=company,
            username=f"{spec.prefix}.quality",
            password=DEMO_PASSWORD,
            password_is_temporary=False,
            first_name="Вера",
            last_name="Полякова",
            role=User.Role.QUALITY,
        )
        demo_quality(
            company=company,
            controller=controller,
            head=head,
            managers=[(user, m.skill) for user, m in managers],
            rng=rng,
        )
        demo_client_analysis(company=company, today=today, history_days=HISTORY_DAYS)
    totals_rebuild(company)
    return company


def totals_rebuild(company: Company) -> None:
    """After a bulk load (or removal): build the company's totals at once, as the nightly
    check would. What the bulk load skipped is "drift" to that check: expected, not news."""
    log = logging.getLogger("rollups.services")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        rollups.totals_reconcile(company_id=company.pk)
    finally:
        log.setLevel(level)


def team_with_history(
    company: Company,
    *,
    team_name: str,
    head: tuple[str, str, str],
    managers: list[DemoManager],
    password: str,
    actor: User,
    today: datetime.date,
    rng: random.Random,
    is_sample: bool = False,
    history_days: int = HISTORY_DAYS,
) -> tuple[User, list[tuple[User, DemoManager]]]:
    """A team with its head (login, first and last name) and managers in an existing
    company, and the managers' plans and daily reports for the last `history_days`: the
    demo's companies and the sample an admin tries (accounts/sample.py) are both made so.
    The company's own sales roles (company_create's standard ones) carry the KPIs.
    Call inside the company's tenant context; the totals are the caller's to rebuild."""
    roles = {role.kind: role for role in SalesRole.objects.filter(company=company)}
    head_user = services.user_create(
        company=company,
        username=head[0],
        password=password,
        password_is_temporary=False,
        first_name=head[1],
        last_name=head[2],
        role=User.Role.HEAD,
        invite=False,
    )
    team = services.team_create(company=company, name=team_name, head=head_user)
    services.user_update(user=head_user, actor=actor, team=team)
    people = [
        (
            services.user_create(
                company=company,
                username=m.username,
                password=password,
                password_is_temporary=False,
                first_name=m.first_name,
                last_name=m.last_name,
                role=User.Role.MANAGER,
                team=team,
                sales_role=roles[m.kind],
                invite=False,
            ),
            m,
        )
        for m in managers
    ]
    if is_sample:
        User.objects.filter(pk__in=[head_user.pk, *(user.pk for user, _m in people)]).update(
            is_sample=True
        )
    _load_history(company, people, today, rng, history_days=history_days)
    return head_user, people


def _load_history(
    company: Company,
    managers: list[tuple[User, DemoManager]],
    today: datetime.date,
    rng: random.Random,
    *,
    history_days: int = HISTORY_DAYS,
) -> None:
    start = today - datetime.timedelta(days=history_days)
    calendar = calendar_for(company=company)
    days = calendar.working_days(start, today)
    # One manager per company was on a two-week vacation about two months ago (a shorter
    # history, the sample's, has none).
    vacation = days[-45:-35] if len(days) > 45 else []
    on_vacation = managers[1][0] if len(managers) > 1 else None
    if vacation and on_vacation is not None:
        Absence(
            company=company,
            manager=on_vacation,
            kind=Absence.Kind.VACATION,
            start=vacation[0],
            end=vacation[-1],
        ).save()
    kpis_of_role = {
        role_id: [rk.kpi for rk in rks]
        for role_id, rks in _group(
            RoleKPI.objects.filter(company=company).select_related("kpi"), "sales_role_id"
        ).items()
    }
    plans = []
    reports = []
    values: list[tuple[int, KPI, Decimal]] = []
    months = sorted({(d.year, d.month) for d in days})
    for user, spec in managers:
        kpis = kpis_of_role[user.sales_role_id]
        for year, month in months:
            working = len(calendar.working_days(*month_bounds(datetime.date(year, month, 1))))
            for kpi in kpis:
                plans.append(
                    Plan(
                        company=company,
                        manager=user,
                        kpi=kpi,
                        start=datetime.date(year, month, 1),
                        value=_month_plan(kpi.code, working),
                    )
                )
        receivables = PERIOD_TARGET["receivables"] * (2 - spec.skill)
        for day in days:
            if day == today:
                continue  # today's reports are the managers' to file
            if rng.random() > spec.reliability:
                continue  # a missing report
            if user == on_vacation and day in vacation:
                continue
            figures = _day_figures(spec.skill, rng)
            receivables = max(0.0, receivables * rng.uniform(0.97, 1.03))
            figures["receivables"] = receivables
            submitted = datetime.datetime.combine(
                day, datetime.time(17, rng.randint(30, 59)), tzinfo=company.zone
            )
            reports.append(
                DailyReport(company=company, manager=user, date=day, submitted_at=submitted)
            )
            index = len(reports) - 1
            for kpi in kpis:
                if kpi.code in figures:
                    value = Decimal(str(round(figures[kpi.code], kpi.decimals)))
                    values.append((index, kpi, value))
    Plan.objects.bulk_create(plans)
    DailyReport.objects.bulk_create(reports)
    # The PBX has counted calls for the last month; now and then a manager reports more.
    since = today - datetime.timedelta(days=30)
    imported, sources = [], {}
    for index, kpi, value in values:
        report = reports[index]
        if kpi.code != "calls" or report.date < since:
            continue
        recorded = value if rng.random() > 0.08 else max(Decimal(0), value - rng.randint(5, 20))
        imported.append(_telephony(company, report.manager, report.date, kpi, recorded))
        if recorded == value:
            sources[index, kpi.code] = ReportValue.Source.TELEPHONY
    for user, _spec in managers:
        for kpi in kpis_of_role[user.sales_role_id]:
            if kpi.code == "calls":  # so far today: prefills the form
                imported.append(_telephony(company, user, today, kpi, Decimal(rng.randint(20, 45))))
    ImportedFigure.objects.bulk_create(imported)
    ReportValue.objects.bulk_create(
        ReportValue(
            company=company,
            report=reports[index],
            kpi=kpi,
            value=value,
            source=sources.get((index, kpi.code), ReportValue.Source.MANUAL),
        )
        for index, kpi, value in values
    )


# The deal KPIs whose figure of record is the CRM's in the demo (reports/figures.py): the
# dashboard counts the deals the funnel counts. Each with its ratio: the average check.
DEAL_KPIS = (
    ("deals_won", "deals_sum", "avg_check"),
    ("repeat_deals", "repeat_sum", "repeat_avg_check"),
)
# How often a manager's report misses one of the day's deals the CRM has: those months show
# the difference flagged, with both figures.
FORGOTTEN_DEAL = 0.08


def _deal_figures_from_crm(
    company: Company,
    managers: list[tuple[User, DemoManager]],
    today: datetime.date,
    rng: random.Random,
) -> None:
    """The CRM's figures of the sellers' days (what prefilled their reports), the reports
    typed from them but for a forgotten deal now and then, and the CRM as the deal KPIs'
    figure of record."""
    codes = [code for group in DEAL_KPIS for code in group[:2]]
    kpis = {kpi.code: kpi for kpi in KPI.objects.filter(company=company, code__in=codes)}
    start = today - datetime.timedelta(days=HISTORY_DAYS)
    sellers = [user for user, spec in managers if spec.kind in ("closer", "farmer")]
    role_codes = {(rk.sales_role_id, rk.kpi.code) for rk in RoleKPI.objects.filter(company=company)}
    for user in sellers:
        own = [kpi for code, kpi in kpis.items() if (user.sales_role_id, code) in role_codes]
        won = Deal.objects.filter(
            company=company, manager=user, status=Deal.Status.WON, closed_at__isnull=False
        ).values_list("closed_at", flat=True)
        days = {company.local_time(moment).date() for moment in won}
        days |= set(DailyReport.objects.filter(manager=user).values_list("date", flat=True))
        for day in sorted(d for d in days if start <= d <= today):
            crm_services.day_figures_store(company=company, manager=user, day=day, kpis=own)
    recorded = {
        (f.manager_id, f.date, f.kpi_id): f.value
        for f in ImportedFigure.objects.filter(company=company, kpi__in=kpis.values())
    }
    typed = _group(
        ReportValue.objects.filter(company=company, report__manager__in=sellers)
        .select_related("report", "kpi")
        .order_by("report__date", "report_id", "kpi__code"),
        "report_id",
    )
    changed, dropped = [], []
    for values in typed.values():
        by_code = {value.kpi.code: value for value in values}
        for count_code, sum_code, average_code in DEAL_KPIS:
            count, total = by_code.get(count_code), by_code.get(sum_code)
            if count is None or total is None:
                continue
            report = count.report
            crm_count = recorded.get((report.manager_id, report.date, count.kpi_id), Decimal(0))
            crm_sum = recorded.get((report.manager_id, report.date, total.kpi_id), Decimal(0))
            count.value, total.value = crm_count, crm_sum
            count.source = total.source = ReportValue.Source.CRM
            if crm_count and rng.random() < FORGOTTEN_DEAL:
                count.value = crm_count - 1
                total.value = (crm_sum * count.value / crm_count).quantize(Decimal("0.01"))
                count.source = total.source = ReportValue.Source.MANUAL
            changed += [count, total]
            average = by_code.get(average_code)
            if average is not None and count.value:
                average.value = (total.value / count.value).quantize(Decimal("0.01"))
                changed.append(average)
            elif average is not None:
                dropped.append(average.pk)
    ReportValue.objects.bulk_update(changed, ["value", "source"])
    ReportValue.objects.filter(pk__in=dropped).delete()
    # Bulk, like the rest of the history: the reconciliation after the load builds the totals.
    KPI.objects.filter(company=company, code__in=codes).update(record=KPI.Record.SOURCE)


def _revenue_by_payments(
    company: Company, managers: list[tuple[User, DemoManager]], today: datetime.date
) -> None:
    """«Выручка по оплатам», counted from 1C's payments (payments/demo.py), in the closers'
    set and plans since the month 1C's statements begin: a revenue plan by payments."""
    kpi = kpi_services.kpi_create(
        company=company, code="paid_sum", name_ru="Выручка по оплатам",
        name_en="Revenue by payments", unit=KPI.Unit.MONEY, direction=KPI.Direction.HIGHER,
        aggregation=KPI.Aggregation.SUM, source=KPI.Source.ACCOUNTING,
        record=KPI.Record.SOURCE, decimals=2,
    )  # fmt: skip
    since = (today - datetime.timedelta(weeks=PAYMENT_WEEKS)).replace(day=1)
    closers = [user for user, spec in managers if spec.kind == "closer"]
    role = SalesRole.objects.get(company=company, kind=SalesRole.Kind.CLOSER)
    position = RoleKPI.objects.filter(company=company, sales_role=role).count()
    RoleKPI(
        company=company, sales_role=role, kpi=kpi, position=position, effective_from=since
    ).save()
    calendar = calendar_for(company=company)
    month, plans = since, []
    while month <= today:
        working = len(calendar.working_days(*month_bounds(month)))
        plans += [
            Plan(company=company, manager=user, kpi=kpi, start=month,
                 value=_month_plan(kpi.code, working))
            for user in closers
        ]  # fmt: skip
        month = month_bounds(month)[1] + datetime.timedelta(days=1)
    Plan.objects.bulk_create(plans)


def _telephony(
    company: Company, manager: User, day: datetime.date, kpi: KPI, value: Decimal
) -> ImportedFigure:
    return ImportedFigure(
        company=company,
        manager=manager,
        date=day,
        kpi=kpi,
        source=ReportValue.Source.TELEPHONY,
        value=value,
    )


def _day_figures(skill: float, rng: random.Random) -> dict[str, float]:
    form = max(0.2, rng.gauss(skill, 0.18))  # today's form around the usual level
    calls = round(DAY_PLAN["calls"] * form * rng.uniform(0.9, 1.1))
    long_calls = round(calls * rng.uniform(0.35, 0.5))
    deals_won = _poisson(float(DAY_PLAN["deals_won"]) * form, rng)
    repeat_deals = _poisson(float(DAY_PLAN["repeat_deals"]) * form, rng)
    figures: dict[str, float] = {
        "calls": calls,
        "long_calls": long_calls,
        "talk_time": long_calls * rng.uniform(150, 260),
        "leads": _poisson(DAY_PLAN["leads"] * form, rng),
        "meetings": _poisson(DAY_PLAN["meetings"] * form, rng),
        "deals_won": deals_won,
        "deals_sum": sum(rng.gauss(80000, 25000) for _ in range(deals_won)),
        "repeat_deals": repeat_deals,
        "repeat_sum": sum(rng.gauss(50000, 15000) for _ in range(repeat_deals)),
    }
    figures["deals_sum"] = max(0.0, figures["deals_sum"])
    figures["repeat_sum"] = max(0.0, figures["repeat_sum"])
    if deals_won:
        figures["avg_check"] = figures["deals_sum"] / deals_won
    if repeat_deals:
        figures["repeat_avg_check"] = figures["repeat_sum"] / repeat_deals
    return figures


def _poisson(mean: float, rng: random.Random) -> int:
    # Knuth's method; the means here are small.
    limit, count, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _month_plan(code: str, working_days: int) -> Decimal:
    if code in PERIOD_TARGET:
        return Decimal(PERIOD_TARGET[code])
    return (Decimal(DAY_PLAN[code]) * working_days).quantize(Decimal(1))


def _group(rows, attribute: str) -> dict:  # type: ignore[no-untyped-def]
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(getattr(row, attribute), []).append(row)
    return grouped
