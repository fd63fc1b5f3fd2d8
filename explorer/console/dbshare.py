"""An in-memory metadata database (the test suite's) shared with the threads that host sessions.

Each thread normally opens its own connection; an in-memory SQLite database exists only
inside the connection that made it (or, in shared-cache mode, with table locks that fail
at once instead of waiting). Django's live server shares the connection with its thread
the same way. A file or server database is never shared: every thread keeps its own.
"""

from __future__ import annotations

from typing import Any

from django.db import connections


def shareable() -> Any | None:
    conn = connections["default"]
    if conn.vendor == "sqlite" and conn.is_in_memory_db():
        conn.inc_thread_sharing()
        return conn
    return None


def adopt(conn: Any | None) -> None:
    if conn is not None:
        connections["default"] = conn


def release(conn: Any | None) -> None:
    if conn is not None:
        conn.dec_thread_sharing()
