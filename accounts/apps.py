from django.apps import AppConfig
from django.db.models import fields
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Django 6.1's blank choice «- Select an option -» has no Russian in Django's own
        # catalogue: ours says it in the page's language (its documented place, ready()),
        # before the imports below build any form with a blank choice.
        fields.BLANK_CHOICE_LABEL = _("— не выбрано —")
        from accounts import checks, rls, schema, signals  # noqa: F401

        post_migrate.connect(rls.grant_app_role, dispatch_uid="accounts.grant_app_role")
