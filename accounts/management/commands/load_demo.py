from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.demo import DEMO_PASSWORD, demo_load, demo_logins


class Command(BaseCommand):
    help = "Loads the two demo companies with months of daily reports (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="drop and reload the demo")

    def handle(self, *args: Any, reset: bool, **options: Any) -> None:
        companies = demo_load(reset=reset)
        self.stdout.write(f"Demo companies: {', '.join(c.name for c in companies)}")
        self.stdout.write(f"Every demo login has the password: {DEMO_PASSWORD}")
        for company, login, who in demo_logins():
            self.stdout.write(f"  {login:<18} {who:<28} {company}")
