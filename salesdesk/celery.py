import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesdesk.settings")

app = Celery("salesdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules not named tasks.py: the file import's task sits beside its service.
app.autodiscover_tasks(["crm_sync"], related_name="import_tasks")
app.autodiscover_tasks(["accounts"], related_name="health")


@signals.task_prerun.connect
@signals.task_postrun.connect
def connections_as_a_request(sender: object = None, **kwargs: object) -> None:
    """A task's database connections live by the rule a request's do (Django closes them
    around each request): kept for DB_CONN_MAX_AGE, closed when obsolete or broken. Not for
    an eager task, which runs inside its caller's request or transaction
    (settings.CELERY_DB_REUSE_MAX: the fix-up itself no longer closes them)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@signals.setup_logging.connect
def use_the_django_logging(loglevel: str | None = None, **kwargs: object) -> None:
    """The worker logs through settings.LOGGING (and its secrets filter), not its own."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
