"""Stored totals of the daily reports: per manager, team and company, per day, week and month.

A total is always recomputed from the daily facts (reports.ReportValue), never incremented.
`Bucket` says which totals need recomputing: a change marks its buckets, a worker claims them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Company, TenantModel
from kpi.models import KPI


class Scope(models.TextChoices):
    MANAGER = "manager", _("менеджер")
    TEAM = "team", _("команда")
    COMPANY = "company", _("компания")


class Period(models.TextChoices):
    DAY = "day", _("день")
    WEEK = "week", _("неделя")
    MONTH = "month", _("месяц")


class Bucket(TenantModel):
    """One scope's subject (a manager, a team, the company) over one day, ISO week or month.

    `marks` rises with every change that touches the bucket, in the changing transaction;
    a worker records the `marks` it saw when it claimed the bucket and, with the totals it
    wrote, sets `done` to that figure. The bucket is stale while marks > done, so a change
    that lands during a recomputation leaves it stale for the next one, never lost.
    """

    scope = models.CharField(max_length=8, choices=Scope.choices)
    subject_id = models.BigIntegerField()  # a user, team or company id, by scope
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField()
    end = models.DateField()
    marks = models.PositiveIntegerField(default=1)
    done = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_marks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "scope", "subject_id", "period", "start"], name="bucket_uniq"
            ),
        ]
        indexes = [
            # The company's stale buckets in id order: the rollup's claim takes the first of
            # them (services.CLAIM_SQL, ORDER BY id LIMIT). On the company alone, the claim's
            # generic plan walked the primary key over every company's buckets instead, and
            # the table keeps a bucket of every day, week and month that anyone reported in.
            models.Index(
                fields=["company", "id"],
                condition=models.Q(marks__gt=models.F("done")),
                name="stale_by_id",
            ),
            # A subject's buckets by their end: what an open dashboard's state reads
            # (dashboard.selectors.poll._buckets), the buckets of a few spans, not every
            # bucket of the subject's history.
            models.Index(
                fields=["company", "scope", "subject_id", "end"], name="bucket_subject_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.subject_id} {self.period} {self.start}"


class Total(TenantModel):
    """A KPI's total for one bucket, with its plan, completion and, while running, its pace."""

    # total_uniq leads with the company: a separate index on it would only slow the writes.
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", db_index=False)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    subject_id = models.BigIntegerField()
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField()
    end = models.DateField()
    # The parts every aggregation is computed from: Σ values (a ratio's Σ numerator), the
    # number of reported days (a ratio's Σ denominator), and the last value where it counts.
    value_sum = models.DecimalField(max_digits=24, decimal_places=4)
    value_count = models.DecimalField(max_digits=24, decimal_places=4)
    days_reported = models.PositiveIntegerField()
    last_value = models.DecimalField(max_digits=24, decimal_places=4, null=True)
    actual = models.DecimalField(max_digits=24, decimal_places=4, null=True)
    plan = models.DecimalField(max_digits=24, decimal_places=4, null=True)
    completion = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    band = models.CharField(max_length=6)
    # The manager's working days in the period and, for the running period, those elapsed.
    working_days = models.PositiveIntegerField(null=True)
    elapsed_days = models.PositiveIntegerField(null=True)
    forecast = models.DecimalField(max_digits=24, decimal_places=4, null=True)
    # While the period runs: the plan of the working days elapsed, what "done so far" is
    # measured against (DOMAIN.md, the two readings of a running period).
    plan_to_date = models.DecimalField(max_digits=24, decimal_places=4, null=True)
    at_risk = models.BooleanField(default=False)
    # A manager: meets the plan (at the current pace while the period runs). A team or the
    # company: the share of its managers with a plan who meet it, in percent.
    meeting_plan = models.BooleanField(null=True)
    share_meeting_plan = models.DecimalField(max_digits=5, decimal_places=1, null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A bucket's totals (every KPI) are one range of this index: what a rollup
            # replaces and what a dashboard reads.
            models.UniqueConstraint(
                fields=["company", "scope", "subject_id", "period", "start", "kpi"],
                name="total_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "period", "start", "scope"], name="total_period"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.subject_id} {self.kpi_id} {self.period} {self.start}"


class WorkingDay(TenantModel):
    """The company's working days as rows, so that plans split over them in SQL.

    Written from kpi.calendar (country holidays, decreed transfers, the company's own days)
    a year at a time, and again whenever the company changes a day of its calendar.
    """

    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "date"], name="workingday_uniq"),
        ]


class Reconciliation(TenantModel):
    """A nightly check of the stored totals against the daily facts, and what it fixed."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    totals = models.PositiveIntegerField()
    written = models.PositiveIntegerField()  # missing or different: the drift, now fixed
    deleted = models.PositiveIntegerField()  # stored with no facts behind them
    # What was checked: the whole history (totals_reconcile), or the months with changes
    # since the last check plus the rotation's slice of older months, [rotation_from,
    # rotation_to] (totals_verify), which the next night's slice continues from.
    full = models.BooleanField(default=True)
    rotation_from = models.DateField(null=True, blank=True)
    rotation_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    @property
    def drift(self) -> int:
        return self.written + self.deleted
