"""Deployment checks (`manage.py check --deploy`): what would quietly weaken a production
installation fails the check instead.

- The app's database role must be subject to row-level security: not a superuser, without
  BYPASSRLS, owning no table of the application (an owner, or a member of the owner's role,
  could turn the policies off).
- The CRM and Telegram tokens need their own key (CRM_CREDENTIALS_KEY): one derived from
  SECRET_KEY changes with it, and the stored tokens are lost.
- Links in e-mails (SITE_URL) are https, unless the installation runs in the documented
  plain-HTTP mode of an internal network (SECURE=0).
"""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection


@register(Tags.security, deploy=True)
def check_database_role(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles"
                " WHERE rolname = current_user"
            )
            role, superuser, bypasses = cursor.fetchone()
            # pg_has_role(..., 'USAGE'): the role itself or one whose rights it inherits.
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                " AND pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY c.relname"
            )
            owned = [name for (name,) in cursor.fetchall()]
    except Exception as error:
        return [
            Warning(
                f"Could not check the database role: {error}",
                hint="Run the check where the database is reachable.",
                id="salesdesk.W001",
            )
        ]
    errors = []
    if superuser:
        errors.append(
            Error(
                f"The app's database role {role} is a superuser: row-level security does not "
                "apply to it, so every company's rows are open to every request.",
                hint="Connect as the app role (docker/postgres-init.sh creates it): "
                "NOSUPERUSER NOBYPASSRLS, owning no table.",
                id="salesdesk.E001",
            )
        )
    if bypasses:
        errors.append(
            Error(
                f"The app's database role {role} has BYPASSRLS: row-level security does not "
                "apply to it.",
                hint=f"ALTER ROLE {role} NOBYPASSRLS;",
                id="salesdesk.E002",
            )
        )
    if owned and not superuser:  # a superuser's own error says more
        shown = ", ".join(owned[:5]) + (f" and {len(owned) - 5} more" if len(owned) > 5 else "")
        errors.append(
            Error(
                f"The app's database role {role} owns the application's tables ({shown}), "
                "or inherits their owner's rights: it can turn row-level security off.",
                hint="Run migrations as the owner role (DATABASE_URL of the owner), and the "
                "app with a role that owns nothing (DATABASE_APP_ROLE).",
                id="salesdesk.E003",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_credentials_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG or settings.CRM_CREDENTIALS_KEY.strip():
        return []
    return [
        Error(
            "CRM_CREDENTIALS_KEY is not set: the stored CRM and Telegram tokens are encrypted "
            "under a key derived from SECRET_KEY, and are lost when it changes.",
            hint='Set CRM_CREDENTIALS_KEY to a Fernet key: python -c "from cryptography.fernet '
            'import Fernet; print(Fernet.generate_key().decode())"',
            id="salesdesk.E004",
        )
    ]


@register(Tags.security, deploy=True)
def check_site_url(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.DEBUG or not settings.SECURE or settings.SITE_URL.startswith("https://"):
        return []
    return [
        Error(
            f"SITE_URL ({settings.SITE_URL}) is not https: links in e-mails would lead to "
            "plain HTTP, which the installation redirects or does not serve.",
            hint="Set SITE_URL=https://<your domain>; on an internal network without HTTPS, "
            "set SECURE=0 (the plain-HTTP mode, README).",
            id="salesdesk.E005",
        )
    ]
