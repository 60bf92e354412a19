from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments and receivables (1C)"

    def ready(self) -> None:
        from payments import receivers

        receivers.connect()
