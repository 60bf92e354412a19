from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import backup


class Command(BaseCommand):
    help = (
        "Creates a company from a file of export_company, under new ids with the same codes. "
        "Refuses when the company (or one of its logins) already exists. See docs/backup.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        try:
            company = backup.company_import(path=file)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{company.name} imported from {file} (code {company.code})")
