from django.db import migrations

from accounts.rls import EnableRowLevelSecurity


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        EnableRowLevelSecurity("accounts_salesrole"),
        EnableRowLevelSecurity("accounts_team"),
        EnableRowLevelSecurity("accounts_user", allow_null_company=True),
        EnableRowLevelSecurity("accounts_apitoken"),
    ]
