"""Where sessions are hosted: the `console` Celery queue (a thread-pool worker), or a thread here.

`make run` starts a worker for the queue (`-Q console --pool threads`), so every web process
reaches the same host through the metadata database. Where tasks would run eagerly (tests,
CELERY_TASK_ALWAYS_EAGER) or DBDECK_CONSOLE_HOST is "thread", a daemon thread of this process
hosts the session instead: eager execution would block the request for the session's life.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from explorer.console import dbshare
from explorer.console.host import serve_session
from explorer.console.models import ConsoleSession, SessionStatus

QUEUE = "console"


@shared_task(name="explorer.console.serve", acks_late=False, time_limit=None, soft_time_limit=None)
def serve(session_id: int) -> str:
    return serve_session(session_id)


def start_host(session_id: int) -> None:
    from config.celery import app

    if getattr(settings, "DBDECK_CONSOLE_HOST", "celery") == "thread" or app.conf.task_always_eager:
        shared = dbshare.shareable()

        def host() -> None:
            dbshare.adopt(shared)
            try:
                serve_session(session_id)
            finally:
                dbshare.release(shared)

        threading.Thread(target=host, name=f"console-{session_id}", daemon=True).start()
    else:
        serve.apply_async((session_id,), queue=QUEUE)


@shared_task(name="explorer.console.reap")
def reap() -> int:
    """Sessions whose host stopped beating (a worker that died) are marked closed; the host rolls back its own."""
    stale = timezone.now() - timedelta(seconds=float(getattr(settings, "DBDECK_CONSOLE_IDLE_S", 300)) + 60)
    return (
        ConsoleSession.objects.filter(status__in=[SessionStatus.READY, SessionStatus.OPENING])
        .filter(host_at__lt=stale)
        .update(status=SessionStatus.CLOSED, closed_reason="The session's host stopped; open a new session.")
    )
