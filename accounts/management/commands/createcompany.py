from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services


class Command(BaseCommand):
    help = (
        "Creates a company set up as every new one is (sales roles, KPIs, pipeline, calendar) "
        "with its first admin, who gets an invitation e-mail to set a password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the company's name")
        parser.add_argument("--admin-email", required=True, help="the first admin's e-mail")
        parser.add_argument("--time-zone", default="Europe/Moscow", help="e.g. Asia/Vladivostok")
        parser.add_argument(
            "--login-prefix", default=None, help="the logins' namespace (default: from the name)"
        )

    def handle(
        self,
        *args: Any,
        name: str,
        admin_email: str,
        time_zone: str,
        login_prefix: str | None,
        **options: Any,
    ) -> None:
        try:
            admin = services.company_open(
                name=name, timezone=time_zone, admin_email=admin_email, login_prefix=login_prefix
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        company = admin.company
        self.stdout.write(
            f"{company.name} created (code {company.code}, logins {company.login_prefix}.…); "
            f"invitation sent to {admin.email}, whose login it is."
        )
