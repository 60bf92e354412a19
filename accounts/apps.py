from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks, rls, schema, signals  # noqa: F401

        post_migrate.connect(rls.grant_app_role, dispatch_uid="accounts.grant_app_role")
