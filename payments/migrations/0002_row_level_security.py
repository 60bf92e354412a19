from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [
        EnableRowLevelSecurity(table)
        for table in (
            "payments_payment",
            "payments_balance",
            "payments_payerlink",
            "payments_odataconnection",
        )
    ]
