"""History rows and audit events for console statements: the text (literal values cut), role and outcome."""

from __future__ import annotations

import re

from audit.record import record
from explorer.console.models import ConsoleResult, ConsoleRun, QueryHistory

LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"(?=\s*[,}\]])|\b\d+(?:\.\d+)?\b")


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
        role="viewer (read-only session)" if session.read_only else "editor",
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
