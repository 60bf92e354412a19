import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesdesk.settings")

app = Celery("salesdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules not named tasks.py: the file import's task sits beside its service.
app.autodiscover_tasks(["crm_sync"], related_name="import_tasks")
