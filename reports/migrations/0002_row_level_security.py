from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("reports_dailyreport"),
        EnableRowLevelSecurity("reports_reportvalue"),
    ]
