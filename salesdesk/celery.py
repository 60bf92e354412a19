import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesdesk.settings")

app = Celery("salesdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules not named tasks.py: the file import's task sits beside its service.
app.autodiscover_tasks(["crm_sync"], related_name="import_tasks")
app.autodiscover_tasks(["accounts"], related_name="health")


@signals.setup_logging.connect
def use_the_django_logging(loglevel: str | None = None, **kwargs: object) -> None:
    """The worker logs through settings.LOGGING (and its secrets filter), not its own."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
