from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("rollups", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("rollups_bucket"),
        EnableRowLevelSecurity("rollups_total"),
        EnableRowLevelSecurity("rollups_workingday"),
        EnableRowLevelSecurity("rollups_reconciliation"),
    ]
