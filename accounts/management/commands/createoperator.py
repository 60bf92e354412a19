from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts import tenancy
from accounts.models import User


class Command(BaseCommand):
    help = "Creates a platform operator (no company) who can use the Django admin at /operator/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("password")

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        with tenancy.operator_context():
            User.objects.create_superuser(username=username, password=password, company=None)
        self.stdout.write(f"Operator {username} created.")
