from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import crypto, tenancy
from accounts.models import Company
from crm_sync.models import CRMConnection
from payments.models import ODataConnection

# Every column stored through crypto.encrypt, by model.
ENCRYPTED_FIELDS: list[tuple[type, list[str]]] = [
    (Company, ["telegram_bot_token"]),
    (CRMConnection, ["credentials", "event_token"]),
    (ODataConnection, ["password"]),
]


class Command(BaseCommand):
    help = (
        "Re-encrypts every stored CRM secret and Telegram bot token under the first key of "
        "CRM_CREDENTIALS_KEY "
        "(after a new key was put first); the old keys can then be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = unreadable = 0
        for company in Company.objects.order_by("pk"):
            # Each company's rows under its own row-level security, in its own transaction.
            with tenancy.tenant_context(company), transaction.atomic():
                for model, fields in ENCRYPTED_FIELDS:
                    own = {"pk": company.pk} if model is Company else {"company": company}
                    for row in model.objects.select_for_update().filter(**own):
                        changed = []
                        for name in fields:
                            token = getattr(row, name)
                            if crypto.encrypted_under_first_key(token):
                                continue
                            try:
                                setattr(row, name, crypto.reencrypt(token))
                            except ValueError:
                                unreadable += 1
                                self.stderr.write(
                                    f"{company.name}: {model.__name__} {row.pk}.{name} is under"
                                    " no key of CRM_CREDENTIALS_KEY; left as it is"
                                )
                                continue
                            changed.append(name)
                        if changed:
                            row.save(update_fields=changed)
                            rotated += len(changed)
        self.stdout.write(f"{rotated} secret(s) re-encrypted under the first key.")
        if unreadable:
            raise CommandError(
                f"{unreadable} secret(s) could not be decrypted: add their key to "
                "CRM_CREDENTIALS_KEY (after the first) and run this again"
            )
