from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("telephony", "0001_initial")]

    operations = [
        EnableRowLevelSecurity(table)
        for table in ("telephony_pbxconnection", "telephony_pbxevent")
    ]
