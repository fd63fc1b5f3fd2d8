"""What the SQL consoles share: statements split with their character positions, and a run loop
that streams every statement's rows from a server-side cursor one `fetchmany` batch at a time.

Splitting follows each dialect's lexical rules so a `;` inside a string, a quoted identifier,
a comment or a PostgreSQL dollar-quoted body never ends a statement:

- every dialect: '...' strings ('' doubles a quote), "..." identifiers, /* ... */ and -- comments;
- PostgreSQL: nested block comments, $tag$ ... $tag$ bodies, E'...' strings with backslash escapes;
- MySQL / MariaDB: backslash escapes in strings, `...` identifiers, # comments, "-- " needs a space;
- SQLite: `...` and [...] identifiers.

An engine's console subclasses `SqlConsole` and provides `_cursor` (server-side where the
driver has one), `_set_timeout` and `_cancel`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from connections.engines.base import VALUE_ERRORS, EngineError, value_refused
from connections.engines.browse import Cut
from connections.engines.capabilities import Console
from connections.engines.results import ResultChunk
from connections.engines.sqlbase import TAG, SqlAdapter

# Text that may change the session's statement timeout: the next run sets it again.
TIMEOUT_WORDS = re.compile(r"timeout|max_statement_time|max_execution_time|\bRESET\b|set_config|\bSET\b", re.I)
TRANSACTION_WORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK"}
CELL_CHARS = 10_000  # a console cell longer than this is cut (the full value goes to an export)


@dataclass(frozen=True)
class Statement:
    """One statement of a run: its text without the ending `;` and where it starts in the run's text."""

    start: int
    text: str

    @property
    def head(self) -> str:
        """The first keyword, upper case ("SELECT", "WITH", "BEGIN"), comments skipped."""
        match = re.match(r"(?:\s+|--[^\n]*\n?|#[^\n]*\n?|/\*.*?\*/)*\(*\s*([A-Za-z]+)", self.text, re.S)
        return match.group(1).upper() if match else ""


@dataclass(frozen=True)
class Rules:
    backslash_escapes: bool = False  # MySQL strings
    dollar_quotes: bool = False  # PostgreSQL
    nested_comments: bool = False  # PostgreSQL
    hash_comments: bool = False  # MySQL
    dash_needs_space: bool = False  # MySQL: "--x" is not a comment
    quote_chars: str = "'\""  # string and identifier quotes; ` and [ added per dialect
    brackets: bool = False  # SQLite [ident]


POSTGRESQL = Rules(dollar_quotes=True, nested_comments=True)
MYSQL = Rules(backslash_escapes=True, hash_comments=True, dash_needs_space=True, quote_chars="'\"`")
SQLITE = Rules(quote_chars="'\"`", brackets=True)
DOLLAR = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")


def split(text: str, rules: Rules) -> list[Statement]:
    """The statements of `text` in order, each with its start offset; empty ones (only `;` or comments) dropped."""
    out: list[Statement] = []
    i, start, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in rules.quote_chars:
            backslash = rules.backslash_escapes and c == "'" or _e_string(text, i, rules)
            i = _skip_quoted(text, i, c, backslash=backslash or (rules.backslash_escapes and c == '"'))
        elif c == "[" and rules.brackets:
            end = text.find("]", i + 1)
            i = n if end < 0 else end + 1
        elif c == "-" and text.startswith("--", i) and (not rules.dash_needs_space or text[i + 2 : i + 3] in " \t\n"):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "#" and rules.hash_comments:
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "/" and text.startswith("/*", i):
            i = _skip_comment(text, i, nested=rules.nested_comments)
        elif c == "$" and rules.dollar_quotes and (m := DOLLAR.match(text, i)) and not _in_word(text, i):
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        elif c == ";":
            _add(out, text, start, i)
            i += 1
            start = i
        else:
            i += 1
    _add(out, text, start, n)
    return out


def _in_word(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")


def _e_string(text: str, i: int, rules: Rules) -> bool:
    return rules.dollar_quotes and text[i] == "'" and i > 0 and text[i - 1] in "eE" and not _in_word(text, i - 1)


def _skip_quoted(text: str, i: int, quote: str, *, backslash: bool) -> int:
    j, n = i + 1, len(text)
    while j < n:
        if backslash and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            if text[j + 1 : j + 2] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _skip_comment(text: str, i: int, *, nested: bool) -> int:
    depth, j, n = 1, i + 2, len(text)
    while j < n and depth:
        if nested and text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
        else:
            j += 1
    return j


def _add(out: list[Statement], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or not _has_code(stripped):
        return
    lead = len(piece) - len(piece.lstrip())
    out.append(Statement(start + lead, piece.strip()))


def _has_code(piece: str) -> bool:
    without = re.sub(r"/\*.*?\*/|--[^\n]*|#[^\n]*", "", piece, flags=re.S)
    return bool(without.strip())


def display(value: Any) -> Any:
    """A value a console page and the metadata database can hold: long text and bytes cut."""
    kind = type(value)
    if kind is str:
        return value if len(value) <= CELL_CHARS else Cut(value[:CELL_CHARS], len(value))
    if kind is memoryview:
        value = bytes(value)
    if isinstance(value, bytes | bytearray):
        return Cut(bytes(value[:CELL_CHARS]), len(value)) if len(value) > CELL_CHARS else bytes(value)
    return value


def _page(rows: list[Any]) -> list[list[Any]]:
    return [[display(v) for v in row] for row in rows]


class SqlConsole(Console):
    """A run of SQL statements on the adapter's connection, committed per statement unless a transaction is open."""

    rules: ClassVar[Rules] = POSTGRESQL
    adapter: SqlAdapter

    def __init__(self, adapter: SqlAdapter) -> None:  # type: ignore[override]
        super().__init__(adapter)
        self.in_transaction = False
        self._skip = threading.Event()
        self._cancelled = threading.Event()
        self._timeout: float | None = None
        self._timeout_may_have_changed = False
        self._timeout_conn: Any = None

    def statements(self, text: str) -> list[Statement]:
        return split(text, self.rules)

    def next_statement(self) -> None:
        self._skip.set()

    # ---- hooks --------------------------------------------------------------------------
    def _cursor(self, statement: Statement) -> Any:
        """A cursor for the statement: server-side where the driver can."""
        raise NotImplementedError

    def _set_timeout(self, timeout: float) -> None:
        raise NotImplementedError

    def _cancel(self) -> None:
        raise NotImplementedError

    def _statement_setup(self) -> None:
        """Before each statement outside an explicit transaction (a viewer's read-only transaction)."""
        if self.read_only:
            conn = self.adapter._conn()
            for sql in self._read_only_sql():
                with _closing(conn.cursor()) as cur:
                    cur.execute(TAG + sql)

    def _read_only_sql(self) -> list[str]:
        return []

    @property
    def read_only(self) -> bool:
        return bool(self.adapter.params.extra.get("read_only"))

    def _abandon(self, cur: Any) -> None:
        """Close a cursor whose remaining rows nobody wants."""
        self._close_quietly(cur)

    def _position(self, exc: Exception, statement: Statement) -> int | None:
        """Where in the run's text the server says the error is; the statement's start when it does not say."""
        return statement.start

    def _begin_sql(self, isolation: str) -> list[str]:
        raise NotImplementedError

    # ---- the contract -----------------------------------------------------------------
    def execute(self, text: str, *, timeout: float, batch: int = 1000) -> Iterator[ResultChunk]:
        self._cancelled.clear()
        conn = self.adapter._conn()
        if self._timeout != timeout or self._timeout_may_have_changed or self._timeout_conn is not conn:
            self._set_timeout(timeout)  # once per session, again when a run may have changed it
            self._timeout, self._timeout_conn = timeout, conn
        self._timeout_may_have_changed = bool(TIMEOUT_WORDS.search(text))
        for index, statement in enumerate(self.statements(text)):
            self._skip.clear()
            started = time.perf_counter()
            cur = None
            if statement.head in TRANSACTION_WORDS and not re.search(r"\bTO\b", statement.text, re.I):
                yield self._transaction_word(index, statement)
                continue
            try:
                if not self.in_transaction:
                    self._statement_setup()
                cur = self._cursor(statement)
                cur.execute(TAG + statement.text)
                # A named (server-side) PostgreSQL cursor describes its columns after the first fetch.
                rows = cur.fetchmany(batch) if getattr(cur, "name", None) else None
                columns = tuple(d[0] for d in cur.description) if cur.description else ()
                if columns:
                    while True:
                        if rows is None:
                            rows = cur.fetchmany(batch)
                        last = len(rows) < batch
                        elapsed = (time.perf_counter() - started) * 1000
                        page = _page(rows)
                        yield ResultChunk(index, columns, page, done=last, elapsed_ms=elapsed)
                        rows = None
                        if last:
                            break
                        if self._skip.is_set():
                            self._abandon(cur)
                            cur = None
                            yield ResultChunk(index, columns, [], done=True, notice="more rows not fetched")
                            break
                    rowcount = None
                else:
                    rowcount = cur.rowcount
                if cur is not None:
                    cur.close()
                cur = None
                if not self.in_transaction:
                    conn.commit()
                if not columns:
                    elapsed = (time.perf_counter() - started) * 1000
                    yield ResultChunk(index, (), [], done=True, rowcount=rowcount, elapsed_ms=elapsed)
            except (self.adapter.driver_error, *VALUE_ERRORS) as exc:
                yield self._failed(index, exc, statement, started, cur)
                return
            except GeneratorExit:
                self._close_quietly(cur)
                if not self.in_transaction:
                    self.adapter._rollback()
                raise

    def _transaction_word(self, index: int, statement: Statement) -> ResultChunk:
        """BEGIN / COMMIT / ROLLBACK typed in the text do what the buttons do."""
        head = statement.head
        try:
            if head in ("BEGIN", "START"):
                self.begin()
                notice = "Transaction open."
            elif head in ("COMMIT", "END"):
                self.commit()
                notice = "Committed."
            else:
                self.rollback()
                notice = "Rolled back."
        except EngineError as exc:
            return ResultChunk(index, done=True, error=exc.message, error_position=statement.start)
        return ResultChunk(index, done=True, notice=notice)

    def _failed(self, index: int, exc: Exception, statement: Statement, started: float, cur: Any) -> ResultChunk:
        self._close_quietly(cur)
        if isinstance(exc, self.adapter.driver_error):
            message = self._message(exc)
        else:
            message = value_refused(self.adapter.vendor, exc).message
        position = self._position(exc, statement)
        self.adapter._rollback()  # a failed statement ends the transaction: say so, never half-apply
        if self.in_transaction:
            message += " The transaction was rolled back."
            self.in_transaction = False
        elapsed = (time.perf_counter() - started) * 1000
        return ResultChunk(index, done=True, error=message, error_position=position, elapsed_ms=elapsed)

    def _message(self, exc: Exception) -> str:
        if self._cancelled.is_set():
            return "Cancelled: the server stopped the statement."
        return self.adapter._translate(exc).message

    @staticmethod
    def _close_quietly(cur: Any) -> None:
        if cur is not None:
            try:
                cur.close()
            except Exception:  # noqa: BLE001,S110  (a cursor of a broken connection has nothing to close)
                pass

    def cancel(self) -> None:
        self._cancelled.set()
        self._skip.set()
        self._cancel()

    def begin(self, isolation: str = "") -> None:
        if isolation and isolation not in self.isolation_levels:
            raise EngineError(f"Choose one of: {', '.join(self.isolation_levels)}.", kind="config")
        self.adapter._rollback()
        conn = self.adapter._conn()
        try:
            for sql in self._begin_sql(isolation):
                with _closing(conn.cursor()) as cur:
                    cur.execute(TAG + sql)
        except self.adapter.driver_error as exc:
            self.adapter._rollback()
            raise self.adapter._translate(exc) from None
        self.in_transaction = True

    def commit(self) -> None:
        self.in_transaction = False
        self.adapter._commit()

    def rollback(self) -> None:
        self.in_transaction = False
        self.adapter._rollback()


class _closing:
    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def __enter__(self) -> Any:
        return self.cur

    def __exit__(self, *exc: object) -> None:
        self.cur.close()
