from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("kpi_kpi"),
        EnableRowLevelSecurity("kpi_rolekpi"),
        EnableRowLevelSecurity("kpi_plan"),
        EnableRowLevelSecurity("kpi_planchange"),
        EnableRowLevelSecurity("kpi_calendarday"),
        EnableRowLevelSecurity("kpi_absence"),
    ]
