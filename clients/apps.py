from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Client analysis"

    def ready(self) -> None:
        from clients import receivers

        receivers.connect()
