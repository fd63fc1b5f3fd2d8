"""The Celery app; each Django app owns its tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("dbdeck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
