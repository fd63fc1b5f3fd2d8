"""A console statement as an export source: its full result streamed batch by batch from the console."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connections.engines import EngineError
from connections.engines.browse import Cut
from connections.engines.capabilities import Console

EXPORT_TIMEOUT_S = 3 * 3600


def statement_rows(adapter: Any, statement: str, max_rows: int) -> tuple[list[str], Iterator[list[Any]]]:
    """The columns and a row iterator of the statement's result (the first batch read before returning)."""
    console = adapter.get(Console)
    if console is None:
        raise EngineError(f"{adapter.display_name} has no query console to export from.", kind="config")
    if len(console.statements(statement)) != 1:
        raise EngineError("An export runs exactly one statement.", kind="config")
    chunks = console.execute(statement, timeout=EXPORT_TIMEOUT_S, batch=2000)
    first = next(chunks, None)
    if first is None:
        return [], iter(())
    if first.error:
        raise EngineError(first.error, kind="config")
    columns = list(first.columns)

    def rows() -> Iterator[list[Any]]:
        count = 0
        for chunk in _chain(first, chunks):
            if chunk.error:
                raise EngineError(chunk.error, kind="config")
            for row in chunk.rows:
                if count >= max_rows:
                    chunks.close()
                    return
                count += 1
                yield [v.value if isinstance(v, Cut) else v for v in row]

    return columns, rows()


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
