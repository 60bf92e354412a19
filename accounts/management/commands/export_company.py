from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts import backup
from accounts.management.commands._company import company_of_code


class Command(BaseCommand):
    help = (
        "Writes one company's data (every tenant table, users with their password hashes) "
        "to a JSON file, gzipped when the name ends in .gz. See docs/backup.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("company", help="the company's code (a UUID)")
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, company: str, file: Path, **options: Any) -> None:
        found = company_of_code(company)
        counts = backup.company_export(company=found, path=file)
        self.stdout.write(f"{found.name}: {sum(counts.values())} rows written to {file}")
