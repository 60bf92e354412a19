"""Since the last visit: new reds, recoveries and corrections since the viewer last looked."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company, User
from dashboard.models import DashboardVisit
from kpi.models import KPI
from kpi.periods import Window
from kpi.values import format_date, format_value
from reports.models import ReportChange
from rollups.figures import Figure, company_kpis, figures_of_window
from rollups.models import Scope
from salesdesk.statements import Statement

# A visit ends after this long away: the next one compares with what the last one saw.
VISIT_GAP = datetime.timedelta(minutes=30)
VISIT_FIELDS = (
    "baseline_at", "baseline_month", "baseline_bands", "last_seen_at", "seen_month", "seen_bands",
)  # fmt: skip


def month_bands(*, figures: dict[tuple[int, int], Figure]) -> dict[str, str]:
    return {f"{m}:{k}": f.shown_band for (m, k), f in figures.items()}


@dataclass
class Change:
    manager: User
    text: str
    kind: str  # "red", "recovered", "correction"


@dataclass
class SinceLastVisit:
    since: datetime.datetime | None
    changes: list[Change]
    digest: str


# visit_record's reads, compiled once (every full dashboard page).
_VISIT = Statement(
    lambda company, viewer: DashboardVisit.objects.filter(company=company, user=viewer).order_by(
        "pk"
    )[:1]
)
_CORRECTIONS = Statement(
    lambda company, since, ids, viewer: (
        ReportChange.objects.filter(
            company=company, changed_at__gt=since, report__manager_id__in=ids
        )
        .exclude(changed_by=viewer)
        .select_related("report", "changed_by")
        .order_by("changed_at")
    )
)


def visit_record(
    *,
    company: Company,
    viewer: User,
    managers: list[User],
    kpis: dict[int, KPI] | None = None,
    now: datetime.datetime | None = None,
    bands: dict[str, str] | None = None,
) -> SinceLastVisit:
    """What changed since the viewer's last visit: new reds, recoveries, corrections.

    Records this visit too (a visit ends after VISIT_GAP away), so it is a read with a
    write, called once per full page view, never by the polling partials. `bands`: the
    managers' bands of the running month (month_bands), when the caller has them; `kpis`:
    the company's, read here when a change needs their names.
    """
    now = now or timezone.now()
    today = company.local_time(now).date()
    month = Window.around("month", today)
    known = kpis

    def known_kpis() -> dict[int, KPI]:
        nonlocal known
        if known is None:
            known = company_kpis(company=company)
        return known

    if bands is None:
        figures = figures_of_window(
            company=company, window=month, kpis=known_kpis(), scope=Scope.MANAGER,
            subject_ids=[m.pk for m in managers],
        )  # fmt: skip
        bands = month_bands(figures=figures)
    visit = next(iter(_VISIT(company=company.pk, viewer=viewer.pk)), None)
    if visit is None:
        visit = DashboardVisit(
            company=company, user=viewer, baseline_at=now, baseline_month=month.start,
            baseline_bands=bands,
        )  # fmt: skip
    elif now - visit.last_seen_at > VISIT_GAP:
        visit.baseline_at = visit.last_seen_at
        visit.baseline_month = visit.seen_month
        visit.baseline_bands = visit.seen_bands
    visit.last_seen_at, visit.seen_month, visit.seen_bands = now, month.start, bands
    if visit.pk is None:
        visit.save()
    else:  # the row is the viewer's own: one UPDATE, without save()'s reference checks
        DashboardVisit.objects.filter(company=company, pk=visit.pk).update(
            **{f: getattr(visit, f) for f in VISIT_FIELDS}
        )
    changes = []
    by_id = {m.pk: m for m in managers}
    if visit.baseline_month == month.start:
        for key, band in sorted(bands.items()):
            before = visit.baseline_bands.get(key)
            manager_id, kpi_id = (int(part) for part in key.split(":"))
            if band == before or (kpi := known_kpis().get(kpi_id)) is None:
                continue
            if band == "red" and before != "red":
                changes.append(
                    Change(by_id[manager_id], _("%(kpi)s стал красным") % {"kpi": kpi.name}, "red")
                )
            elif before == "red" and band in ("yellow", "green"):
                changes.append(
                    Change(
                        by_id[manager_id],
                        _("%(kpi)s больше не красный") % {"kpi": kpi.name},
                        "recovered",
                    )
                )
    if visit.baseline_at < now:
        corrections = _CORRECTIONS(
            company=company.pk, since=visit.baseline_at, ids=list(by_id), viewer=viewer.pk
        )
        for change in corrections:
            kpi = known_kpis().get(change.kpi_id)
            if kpi is None:
                continue
            changes.append(
                Change(
                    by_id[change.report.manager_id],
                    _("исправлен отчёт за %(day)s: %(kpi)s %(old)s → %(new)s (%(who)s)")
                    % {
                        "day": format_date(change.report.date, year=False),
                        "kpi": kpi.name,
                        "old": format_value(change.old_value, kpi),
                        "new": format_value(change.new_value, kpi),
                        "who": change.changed_by or "—",
                    },
                    "correction",
                )
            )
    since = visit.baseline_at if visit.baseline_at < now else None
    return SinceLastVisit(since, changes, visit.digest)
