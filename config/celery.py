"""The Celery app; each Django app owns its tasks.py."""

import os
import warnings

from celery import Celery
from celery.exceptions import SecurityWarning

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Celery warns on every start as root (a container, a one-user VM) because a root worker that
# accepts pickle can be made to run code. dbdeck's workers accept JSON only (CELERY_ACCEPT_CONTENT),
# and Celery still refuses to start as root if pickle is ever allowed, so the warning says nothing here.
warnings.filterwarnings("ignore", "You're running the worker with superuser privileges", SecurityWarning)

app = Celery("dbdeck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
