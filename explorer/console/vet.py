"""What the host refuses before a run reaches the server: unconfirmed writes on production, and
administrative commands nobody confirmed. Viewers' writes are refused by the database itself."""

from __future__ import annotations

import re
from typing import Any

from connections.engines.capabilities import Console
from explorer.console.models import ConsoleRun

READ_HEADS = {"SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "DESC", "VALUES", "TABLE", "WITH", "PRAGMA", "BEGIN", "START",
              "COMMIT", "END", "ROLLBACK"}  # fmt: skip
WRITING_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|INTO|nextval|setval|lo_\w+|COPY|CALL|DO)\b", re.I)


def may_write(console: Console, statements: list[Any]) -> bool:
    """Whether the run could change data: anything but a plain read in the engine's terms."""
    if console.language == "mongo":
        return any("$out" in s.text or "$merge" in s.text for s in statements)
    if console.language == "redis":
        flagged = getattr(console, "_flagged_readonly", None)
        return any(flagged is None or not flagged(_redis_name(s.text)) for s in statements)
    return any(getattr(s, "head", "") not in READ_HEADS or WRITING_WORDS.search(s.text) for s in statements)


def _redis_name(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("["):
        match = re.match(r'\[\s*"([^"]*)"', stripped)
        return match.group(1).upper() if match else ""
    return stripped.split("\n", 1)[0].strip().upper()


def refusal(console: Console, adapter: Any, run: ConsoleRun, statements: list[Any]) -> str:
    if not statements:
        return "There is nothing to run: type a statement first."
    dangerous = console.dangerous(run.text)
    if dangerous and not run.dangerous_confirmed:
        return (
            f"{', '.join(dangerous)}: administrative or server-side-script commands are refused unless an admin "
            "ticks “I confirm administrative commands”."
        )
    session = run.session
    if session.connection.production and not adapter.params.extra.get("read_only"):
        if not run.write_confirmed and may_write(console, statements):
            return (
                f"{session.connection.name} is a production connection: type its name in “Confirm production” "
                "to run statements that may write."
            )
    return ""
