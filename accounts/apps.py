from django.apps import AppConfig
from django.db.models import fields
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks, rls, schema, signals  # noqa: F401

        post_migrate.connect(rls.grant_app_role, dispatch_uid="accounts.grant_app_role")
        # Django 6.1's blank choice «- Select an option -» has no Russian in Django's own
        # catalogue: ours says it in the page's language (its documented place, ready()).
        fields.BLANK_CHOICE_LABEL = _("— не выбрано —")
