import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import health


class Command(BaseCommand):
    help = (
        "What /healthz reports, for a container's health check: exits 1 when a part is down. "
        "--beat checks only beat's last tick (the beat container's own check)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beat", action="store_true", help="only beat's last tick")

    def handle(self, *args: Any, beat: bool, **options: Any) -> None:
        if beat:
            status = health.beat_status()
            status["status"] = "error" if status["beat"] == "error" else "ok"
        else:
            status = health.system_status()
        self.stdout.write(json.dumps(status))
        if status["status"] != "ok":
            raise CommandError("unhealthy")
