from django.db import migrations

from accounts.rls import EnableRowLevelSecurity, ReplaceRowLevelSecurityRule


class Migration(migrations.Migration):
    """Operators' rows only in the operator context; login names written only by their
    company (read by all: the login maps a login to its company before one is known)."""

    dependencies = [("accounts", "0005_audit_event")]

    operations = [
        ReplaceRowLevelSecurityRule(
            "accounts_user", old={"allow_null_company": True}, new={"operator_rows": True}
        ),
        EnableRowLevelSecurity("accounts_loginname", operator_rows=True, readable_by_all=True),
    ]
