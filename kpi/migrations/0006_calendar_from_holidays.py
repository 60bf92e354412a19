import datetime

import holidays
from django.db import migrations, models
from django.db.models import F


def _days(first: datetime.date, last: datetime.date):
    for offset in range((last - first).days + 1):
        yield first + datetime.timedelta(days=offset)


def calendar_from_the_package(apps, schema_editor):
    """The decreed transfers once copied into every new company (origin 'transfer') go: the
    country's calendar now comes whole from `holidays` (kpi.calendar).

    Each company's stored working days (rollups.WorkingDay, written a whole year at a time)
    are brought to that rule: it gives the copied Saturdays too, and adds the decreed working
    weekend days the copies lacked (2021's, 2022's, 2027's). The buckets of a month that
    changed are marked stale; the sweeper queues their recomputation. Company by company,
    under row-level security (accounts/rls.py), as in 0004."""
    Company = apps.get_model("accounts", "Company")
    CalendarDay = apps.get_model("kpi", "CalendarDay")
    WorkingDay = apps.get_model("rollups", "WorkingDay")
    Bucket = apps.get_model("rollups", "Bucket")
    postgres = schema_editor.connection.vendor == "postgresql"
    for company_id, country in Company.objects.values_list("pk", "country"):
        if postgres:
            schema_editor.execute("SELECT set_config('app.company_id', %s, true)", [str(company_id)])
        CalendarDay._base_manager.filter(company_id=company_id, origin="transfer").delete()
        overrides = dict(
            CalendarDay._base_manager.filter(company_id=company_id).values_list("date", "is_working")
        )
        stored = set(
            WorkingDay._base_manager.filter(company_id=company_id).values_list("date", flat=True)
        )
        country_calendar = holidays.country_holidays(country)
        wanted = {
            day
            for year in {day.year for day in stored}
            for day in _days(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
            if overrides.get(day, country_calendar.is_working_day(day))
        }
        WorkingDay._base_manager.bulk_create(
            [WorkingDay(company_id=company_id, date=day) for day in sorted(wanted - stored)]
        )
        WorkingDay._base_manager.filter(company_id=company_id, date__in=stored - wanted).delete()
        for month in sorted({day.replace(day=1) for day in wanted ^ stored}):
            last = (month + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1)
            # Whole weeks: a week across two months has a plan from both (as buckets_mark_span).
            start = month - datetime.timedelta(days=month.weekday())
            end = last + datetime.timedelta(days=6 - last.weekday())
            Bucket._base_manager.filter(
                company_id=company_id, start__lte=end, end__gte=start
            ).update(marks=F("marks") + 1)
    if postgres:
        schema_editor.execute("SELECT set_config('app.company_id', '', true)")


class Migration(migrations.Migration):

    dependencies = [
        ('kpi', '0005_figure_bounds'),
        ('rollups', '0003_total_bucket_index'),
    ]

    operations = [
        migrations.RunPython(calendar_from_the_package, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='calendarday',
            name='origin',
            field=models.CharField(choices=[('company', 'решение компании')], default='company', max_length=16),
        ),
    ]
