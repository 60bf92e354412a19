from django.apps import AppConfig


class RollupsConfig(AppConfig):
    name = "rollups"
    verbose_name = "Rollups"

    def ready(self) -> None:
        # Its signal receivers, connected before the first request (rollups.services uses it).
        from salesdesk import after_response  # noqa: F401
