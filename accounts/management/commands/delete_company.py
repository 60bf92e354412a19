from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import backup
from accounts.models import Company


class Command(BaseCommand):
    help = "Deletes a company and all its data (before restoring it with import_company)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("company", help="the company's code (a UUID)")
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *args: Any, company: str, yes: bool, **options: Any) -> None:
        try:
            found = Company.objects.filter(code=company).first()
        except ValidationError as error:
            raise CommandError(f"not a company code: {company}") from error
        if found is None:
            raise CommandError(f"no company with the code {company}")
        if not yes:
            raise CommandError(f"this deletes {found.name} and all its data: add --yes")
        backup.company_delete(company=found)
        self.stdout.write(f"{found.name} deleted.")
