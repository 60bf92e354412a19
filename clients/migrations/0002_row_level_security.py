from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [
        EnableRowLevelSecurity(table)
        for table in (
            "clients_clientanalysissettings",
            "clients_acquisitioncost",
            "clients_clientclass",
            "clients_clientalert",
        )
    ]
