from django.conf import settings
from django.db import migrations, models

from salesdesk.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0014_user_pbx_identity"),
        ("reports", "0010_figure_source_accounting"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name="dailyreport",
            index=models.Index(fields=["company", "date"], name="report_company_day"),
        ),
    ]
