from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_end_of_day_report")]

    operations = [
        EnableRowLevelSecurity("reports_importedfigure"),
        EnableRowLevelSecurity("reports_reportchange"),
        EnableRowLevelSecurity("reports_reportdraft"),
        EnableRowLevelSecurity("reports_closedmonth"),
        EnableRowLevelSecurity("reports_reminder"),
    ]
