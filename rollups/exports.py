"""Flat tables for BI tools (DataLens, Power BI, Metabase): the totals of a period and the
facts (the reported figures of each day), as CSV or JSON lines, streamed.

The column names are a contract: a dashboard built on them must not break on an upgrade, so
columns are only ever added at the end, never renamed or removed. Numbers are in the KPI's
unit with a decimal point (a duration in seconds), dates ISO, empty for none.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from accounts import tenancy
from accounts.models import Company, Team, User
from accounts.permissions import of_managers_in_view
from reports.models import DailyReport, ReportValue
from rollups.models import Scope

# Both readings of a running period, as every screen names them: done so far (against the
# plan to date) and pace (the forecast against the whole plan); `band_reading` says which
# colours `band`.
TOTAL_COLUMNS = (
    "period", "start", "end", "scope", "subject_code", "subject_name", "kpi_code", "kpi_name",
    "actual", "plan", "plan_to_date", "completion", "done_so_far_completion", "pace_completion",
    "band", "band_reading", "forecast", "at_risk", "working_days", "elapsed_days",
    "days_reported", "share_meeting_plan", "computed_at",
)  # fmt: skip
FACT_COLUMNS = (
    "date", "manager_code", "manager_name", "kpi_code", "kpi_name", "value", "value_source",
    "report_code", "report_version", "submitted_at", "updated_at",
)  # fmt: skip


def total_table(*, company: Company, rows: list[dict], kpi_names: dict[str, str]) -> Iterator[dict]:
    """The API's totals (rollups.apis.total_rows) as flat rows of TOTAL_COLUMNS."""
    names = _subject_names(company=company, rows=rows)
    for row in rows:
        yield {
            **{column: row.get(column) for column in TOTAL_COLUMNS},
            "subject_code": row["subject"],
            "subject_name": names.get((row["scope"], row["subject"]), ""),
            "kpi_code": row["kpi"],
            "kpi_name": kpi_names.get(row["kpi"], ""),
        }


def _subject_names(*, company: Company, rows: list[dict]) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {(Scope.COMPANY, str(company.code)): company.name}
    for code, first, last in User.objects.filter(company=company).values_list(
        "code", "first_name", "last_name"
    ):
        names[(Scope.MANAGER, str(code))] = f"{last} {first}".strip()
    for code, name in Team.objects.filter(company=company).values_list("code", "name"):
        names[(Scope.TEAM, str(code))] = name
    return names


def facts_of(
    *, company: Company, viewer: User | None, first: datetime.date, last: datetime.date
) -> QuerySet[ReportValue]:
    """The reported figures of the days, of the managers the viewer sees (None: the
    company's, for a company token)."""
    values = ReportValue.objects.filter(
        company=company, report__date__gte=first, report__date__lte=last
    )
    if viewer is not None:
        reports = of_managers_in_view(DailyReport.objects.filter(company=company), viewer=viewer)
        values = values.filter(report__in=reports.values("pk"))
    return values.select_related("report__manager", "kpi").order_by(
        "report__date", "report__manager_id", "kpi__code", "pk"
    )


def fact_table(values: QuerySet[ReportValue]) -> Iterator[dict]:
    for value in values.iterator(chunk_size=2000):
        report = value.report
        manager = report.manager
        yield {
            "date": report.date,
            "manager_code": manager.code,
            "manager_name": f"{manager.last_name} {manager.first_name}".strip(),
            "kpi_code": value.kpi.code,
            "kpi_name": value.kpi.name,
            "value": value.value,
            "value_source": value.source,
            "report_code": report.code,
            "report_version": report.version,
            "submitted_at": report.submitted_at,
            "updated_at": report.updated_at,
        }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def as_csv(rows: Iterable[dict], columns: tuple[str, ...]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(column)) for column in columns])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def as_json_lines(rows: Iterable[dict], columns: tuple[str, ...]) -> Iterator[str]:
    for row in rows:
        line = {
            column: (
                row.get(column)
                if isinstance(row.get(column), bool | int | type(None))
                else _text(row.get(column))
            )
            for column in columns
        }
        yield json.dumps(line, ensure_ascii=False) + "\n"


def in_company(company: Company, chunks: Iterator[str]) -> Iterator[str]:
    """The streamed body is read after the view has returned and the request's company
    context has closed: the rows are read in the company's own context."""
    with tenancy.tenant_context(company):
        yield from chunks
