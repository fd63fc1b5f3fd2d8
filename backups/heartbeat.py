"""A job's heartbeat while it runs: a thread that touches `heartbeat_at` every few seconds.

Progress callbacks beat too, but a dump waiting on a lock or a restore building indexes sends no
bytes for minutes; the thread keeps the reaper from calling such a job lost. A dead worker stops
beating with its process, which is what the reaper looks for.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)
EVERY_S = 10.0


@contextlib.contextmanager
def beating(model: Any, pk: int, every: float = EVERY_S) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    model.objects.filter(pk=pk).update(heartbeat_at=timezone.now())
                except Exception as exc:  # a locked metadata database: the next beat tries again
                    log.debug("heartbeat of %s %s skipped: %s", model.__name__, pk, exc)
        finally:
            connection.close()  # this thread's own connection ends with it

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
