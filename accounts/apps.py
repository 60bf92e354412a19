from django.apps import AppConfig
from django.db.models import fields
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# Django 6.1's blank choice «- Select an option -» has no Russian in Django's own catalogue:
# ours says it in the page's language. Set when this module is imported (the registry's first
# phase), not in ready(): the admin's autodiscovery, in django.contrib.admin's ready(), which
# comes first, imports our forms, and a form field takes the label when it is made.
fields.BLANK_CHOICE_LABEL = _("— не выбрано —")


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks, rls, schema, signals  # noqa: F401

        post_migrate.connect(rls.grant_app_role, dispatch_uid="accounts.grant_app_role")
