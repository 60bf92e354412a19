from django.db import migrations, models

from accounts.rls import EnableRowLevelSecurity, ReplaceRowLevelSecurityRule


class Migration(migrations.Migration):
    """Operators' rows only in the operator context; login names written only by their
    company (read by all: the login maps a login to its company before one is known); a
    company's row changed only by the company itself or the operators' console; no
    company's user made staff or superuser."""

    dependencies = [("accounts", "0006_audit_month_close_reopen")]

    operations = [
        ReplaceRowLevelSecurityRule(
            "accounts_user", old={"allow_null_company": True}, new={"operator_rows": True}
        ),
        EnableRowLevelSecurity("accounts_loginname", operator_rows=True, readable_by_all=True),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("company__isnull", True))
                | models.Q(("is_staff", False), ("is_superuser", False)),
                name="user_company_never_staff",
            ),
        ),
        EnableRowLevelSecurity(
            "accounts_company", registry=True, readable_by_all=True, insertable_by_all=True
        ),
    ]
