"""History rows and audit events for console statements: the text (literal values cut), role and outcome."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as db_connection
from django.db import transaction

from audit.record import record
from explorer.console.models import ConsoleResult, ConsoleRun, QueryHistory

LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"(?=\s*[,}\]])|\b\d+(?:\.\d+)?\b")


def fast_commits() -> None:
    """The host's own rows (pages, run states) are transient: on SQLite in WAL mode they commit without
    waiting for the disk (`synchronous=NORMAL`, safe against a crash of the process). History and audit
    rows are written inside `durable()`, which waits for the disk as every other write does."""
    if _file_sqlite():
        with db_connection.cursor() as cur:
            cur.execute("PRAGMA synchronous = NORMAL")


def _file_sqlite() -> bool:
    """SQLite on disk; an in-memory one (the tests', shared between threads) has no disk to wait for."""
    return db_connection.vendor == "sqlite" and not db_connection.is_in_memory_db()


@contextmanager
def durable() -> Iterator[None]:
    sqlite = _file_sqlite()
    if not sqlite and db_connection.vendor == "sqlite":  # shared in-memory: no transaction across threads
        yield
        return
    if sqlite:
        with db_connection.cursor() as cur:
            cur.execute("PRAGMA synchronous = FULL")
    try:
        with transaction.atomic():
            yield
    finally:
        if sqlite:
            with db_connection.cursor() as cur:
                cur.execute("PRAGMA synchronous = NORMAL")


def without_values(text: str) -> str:
    """The statement's shape for the audit trail: string and number literals become `?`."""
    return LITERALS.sub("?", text)[:2000]


def statement(run: ConsoleRun, text: str, outcome: str, duration: float | None, rows: int | None, error: str) -> None:
    session = run.session
    QueryHistory.objects.create(
        user_id=session.user_id,
        connection_id=session.connection_id,
        text=text[:100_000],
        duration_ms=duration,
        rows=rows,
        outcome=outcome,
        error=error[:500],
    )
    record(
        "console.statement",
        actor=session.user,
        connection=session.connection,
        target=session.connection.name,
        statement=without_values(text),
        role=getattr(session, "role_label", "") or ("viewer (read-only session)" if session.read_only else "editor"),
        outcome=outcome,
        rows=rows,
        error=error[:300],
    )


def finished(run: ConsoleRun, result: ConsoleResult) -> None:
    if result.error:
        outcome = "cancelled" if result.error.startswith("Cancelled") else "error"
    else:
        outcome = "ok"
    rows = result.rowcount if result.rowcount is not None else result.last_row
    statement(run, result.text, outcome, result.elapsed_ms, rows, result.error)
