from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import backup
from accounts.management.commands._company import company_of_code


class Command(BaseCommand):
    help = "Deletes a company and all its data (before restoring it with import_company)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("company", help="the company's code (a UUID)")
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *args: Any, company: str, yes: bool, **options: Any) -> None:
        found = company_of_code(company)
        if not yes:
            raise CommandError(f"this deletes {found.name} and all its data: add --yes")
        backup.company_delete(company=found)
        self.stdout.write(f"{found.name} deleted.")
