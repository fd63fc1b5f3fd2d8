"""The MongoDB console: find / aggregate / countDocuments / distinct as JSON documents, one after another.

A run is one or more JSON documents (extended JSON: {"$oid": ...}, {"$date": ...}), e.g.
`{"find": "orders", "filter": {"status": "paid"}, "sort": {"_id": -1}, "limit": 50}`.
Every command carries maxTimeMS and a comment that Cancel finds in currentOp to killOp it.
Server-side JavaScript ($where, $function, $accumulator) needs an admin's confirmation;
writing stages ($out, $merge) are refused for viewers.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from bson import json_util
from pymongo import errors as mx

from connections.engines.base import EngineError
from connections.engines.capabilities import Console
from connections.engines.results import ResultChunk
from connections.engines.sqlconsole import Statement, display

COMMANDS = ("find", "aggregate", "countDocuments", "distinct")
JAVASCRIPT = ("$where", "$function", "$accumulator")
WRITING_STAGES = ("$out", "$merge")
DECODER = json.JSONDecoder(object_hook=json_util.object_hook)


def parse(text: str) -> list[tuple[Statement, dict[str, Any] | str]]:
    """Each JSON document with where it starts; a document that does not parse is its error message."""
    out: list[tuple[Statement, dict[str, Any] | str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and (text[i].isspace() or text[i] in ",;"):
            i += 1
        if i >= n:
            break
        try:
            value, end = DECODER.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            out.append((Statement(exc.pos, text[i:].strip()), f"Not valid JSON: {exc.msg} (at character {exc.pos})"))
            break
        piece = Statement(i, text[i:end])
        out.append((piece, value if isinstance(value, dict) else 'Each command is a JSON object, e.g. {"find": …}.'))
        i = end
    return out


def _mentions(value: Any, names: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in names:
                found.append(key)
            found += _mentions(inner, names)
    elif isinstance(value, list):
        for inner in value:
            found += _mentions(inner, names)
    return found


class MongoDBConsole(Console):
    language = "mongo"
    isolation_levels = ()

    def __init__(self, adapter: Any) -> None:
        super().__init__(adapter)
        self.allow_dangerous = False
        self._comment = ""
        self._cancelled = False

    def statements(self, text: str) -> list[Statement]:
        return [piece for piece, _ in parse(text)]

    def dangerous(self, text: str) -> list[str]:
        return sorted({name for _, doc in parse(text) if isinstance(doc, dict) for name in _mentions(doc, JAVASCRIPT)})

    def next_statement(self) -> None:
        self._skip = True

    def execute(self, text: str, *, timeout: float, batch: int = 1000) -> Iterator[ResultChunk]:
        self._cancelled = False
        for index, (piece, doc) in enumerate(parse(text)):
            self._skip = False
            started = time.perf_counter()
            if isinstance(doc, str):
                yield ResultChunk(index, done=True, error=doc, error_position=piece.start)
                return
            try:
                yield from self._run(index, doc, timeout, batch, started)
            except EngineError as exc:
                yield ResultChunk(index, done=True, error=exc.message, error_position=piece.start)
                return
            except (mx.PyMongoError, ValueError, TypeError) as exc:
                message = "Cancelled: the server stopped the command." if self._cancelled else self._message(exc)
                yield ResultChunk(index, done=True, error=message, error_position=piece.start)
                return

    def _message(self, exc: Exception) -> str:
        if isinstance(exc, mx.PyMongoError):
            return self.adapter._error(exc).message
        return f"MongoDB cannot take that value: {exc}"

    def _run(
        self, index: int, doc: dict[str, Any], timeout: float, batch: int, started: float
    ) -> Iterator[ResultChunk]:
        names = [c for c in COMMANDS if c in doc]
        if len(names) != 1:
            raise EngineError(f"Each command names one of {', '.join(COMMANDS)} and a collection.", kind="config")
        command = names[0]
        js = _mentions(doc, JAVASCRIPT)
        if js and not self.allow_dangerous:
            raise EngineError(f"{', '.join(sorted(set(js)))} runs JavaScript on the server: an admin must confirm it.")
        if self.adapter.params.extra.get("read_only") and _mentions(doc, WRITING_STAGES):
            raise EngineError("Your role on this connection is read-only: $out and $merge write, so they were refused.")
        db_name = str(doc.get("db") or self.adapter.params.database or "")
        collection = self.adapter._collection(db_name, str(doc[command]))
        max_ms = max(1, int(timeout * 1000))
        self._comment = f"dbdeck-console-{uuid.uuid4().hex[:12]}"
        filt = doc.get("filter") or {}
        if command == "countDocuments":
            count = collection.count_documents(filt, maxTimeMS=max_ms, comment=self._comment)
            yield ResultChunk(index, ("count",), [[count]], done=True, elapsed_ms=_ms(started))
            return
        if command == "distinct":
            values = collection.distinct(str(doc.get("key") or ""), filt, maxTimeMS=max_ms, comment=self._comment)
            yield from self._pages(index, ({"value": v} for v in values), batch, started)
            return
        if command == "aggregate":
            cursor = collection.aggregate(
                list(doc.get("pipeline") or []), maxTimeMS=max_ms, batchSize=batch, comment=self._comment
            )
        else:
            cursor = collection.find(
                filt,
                projection=doc.get("projection") or None,
                sort=list((doc.get("sort") or {}).items()) or None,
                skip=int(doc.get("skip") or 0),
                limit=int(doc.get("limit") or 0),
                max_time_ms=max_ms,
                batch_size=batch,
                comment=self._comment,
            )
        try:
            yield from self._pages(index, cursor, batch, started)
        finally:
            cursor.close()

    def _pages(self, index: int, docs: Any, batch: int, started: float) -> Iterator[ResultChunk]:
        page: list[dict[str, Any]] = []
        for document in docs:
            page.append(document)
            if len(page) == batch:
                yield _chunk(index, page, started, done=False)
                page = []
                if self._skip:
                    yield ResultChunk(index, done=True, notice="more documents not fetched")
                    return
        yield _chunk(index, page, started, done=True)

    def cancel(self) -> None:
        self._cancelled = True
        self._skip = True
        comment = self._comment
        if comment:
            side = type(self.adapter)(self.adapter.params)
            try:
                admin = side._mongo().admin
                ops = admin.command("currentOp", {"comment": comment}).get("inprog", [])
                for op in ops:
                    admin.command("killOp", op=op["opid"])
            except (mx.PyMongoError, KeyError):
                pass  # maxTimeMS still stops it on the server
            finally:
                side.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _chunk(index: int, docs: list[dict[str, Any]], started: float, *, done: bool) -> ResultChunk:
    columns: list[str] = []
    for document in docs:
        for key in document:
            if key not in columns:
                columns.append(key)
    rows = [[_cell(document.get(key, _MISSING)) for key in columns] for document in docs]
    return ResultChunk(index, tuple(columns), rows, done=done, elapsed_ms=_ms(started))


_MISSING = object()


def _cell(value: Any) -> Any:
    if value is _MISSING:
        return None
    if isinstance(value, dict | list):
        return display(json_util.dumps(value, ensure_ascii=False))
    if isinstance(value, str | int | float | bool | bytes) or value is None:
        return display(value)
    text = json_util.dumps(value)
    return re.sub(r'^\{"\$\w+": (.*)\}$', r"\1", text)
