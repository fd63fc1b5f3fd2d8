"""What the SQL engines share below browsing: the DB-API connection's life and the catalog's cache.

An SQL adapter subclasses `SqlAdapter` and provides the hooks (`_conn`, `_translate`,
`_execute`, `_stream`); its introspection subclasses `SqlIntrospection`. Every statement
goes through `_execute`, which tags it and runs under the session's statement timeout;
read-only sessions are enforced by the database, and a refused write comes back as
EngineError(kind="permission").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, ClassVar

from connections.engines.base import VALUE_ERRORS, Adapter, ConnectionParams, EngineError, value_refused
from connections.engines.browse import Listing, Namespace, TableInfo
from connections.engines.sqlkeyset import Dialect

TAG = "/* dbdeck */ "


class SqlAdapter(Adapter):
    dialect: ClassVar[Dialect]
    driver_error: ClassVar[type[Exception]] = Exception  # the driver's base error class
    vendor: ClassVar[str] = ""  # the name errors start with ("MySQL said: ...")
    introspection_class: ClassVar[type[SqlIntrospection]]

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._db: Any = None  # the DB-API connection, opened lazily by _conn()
        self._rows_affected = 0

    @cached_property
    def introspection(self) -> SqlIntrospection:
        """The engine's catalog reader, fresh for every checkout (its descriptions are cached)."""
        return self.introspection_class(self)

    # ---- the DB-API connection's life, the same for every driver ----------------------
    def _rowcount(self) -> int:
        """Rows affected by the last `_execute`."""
        return self._rows_affected

    def _commit(self) -> None:
        try:
            self._conn().commit()
        except self.driver_error as exc:
            raise self._translate(exc) from None

    def _rollback(self) -> None:
        if self._db is not None:
            try:
                self._db.rollback()
            except self.driver_error:
                pass  # a dead connection has nothing to roll back

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Commit what the block wrote, or roll all of it back whatever went wrong."""
        try:
            yield
            self._commit()
        except BaseException:
            self._rollback()
            raise

    @contextmanager
    def _driver_errors(self, *, rollback: bool) -> Iterator[None]:
        """Driver errors and values the driver refuses, as EngineError (ending the transaction if asked)."""
        try:
            yield
        except self.driver_error as exc:
            error = self._translate(exc)
            if rollback:
                self._rollback()
            raise error from None
        except VALUE_ERRORS as exc:
            if rollback:
                self._rollback()
            raise value_refused(self.vendor, exc) from None

    def close(self) -> None:
        if self._db is not None:
            self._rollback()
            try:
                self._db.close()
            except self.driver_error:
                pass
            self._db = None

    def reset(self) -> bool:
        self._rollback()
        self.__dict__.pop("introspection", None)
        return True

    def healthy(self) -> bool:
        try:
            self._read("SELECT 1")
            self._rollback()
            return True
        except EngineError:
            return False

    # ---- hooks each SQL adapter implements -------------------------------------------
    def _conn(self) -> Any:
        """The open DB-API connection: connected on first use, with timeouts and read-only session."""
        raise NotImplementedError

    def _translate(self, exc: Exception) -> EngineError:
        """A driver error as an EngineError whose message is safe to show."""
        raise NotImplementedError

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one tagged statement in the current transaction and return its rows (if any)."""
        raise NotImplementedError

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows from a server-side cursor, a batch at a time."""
        raise NotImplementedError

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A statement that only reads: like `_execute`, but an engine may run it outside a transaction
        (one round trip instead of BEGIN, the statement and ROLLBACK) when none is open."""
        return self._execute(sql, args)


class SqlIntrospection:
    """One SQL engine's catalog, read through its adapter: namespaces, objects, descriptions."""

    def __init__(self, adapter: SqlAdapter) -> None:
        self.adapter = adapter
        self._described: dict[tuple[str, str], TableInfo] = {}

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.adapter._execute(sql, args)

    def quote(self, name: str) -> str:
        return self.adapter.dialect.quote(name)

    def namespaces(self) -> list[Namespace]:
        raise NotImplementedError

    def objects(self, ns: str) -> Listing:
        raise NotImplementedError

    def _describe(self, ns: str, obj: str) -> TableInfo:
        """Columns, key, foreign keys and indexes from the engine's catalog."""
        raise NotImplementedError

    def prime(self, info: TableInfo) -> None:
        self._described[(info.namespace, info.name)] = info

    def describe(self, ns: str, obj: str) -> TableInfo:
        """The catalog read once per checkout (one request), however many times a view asks."""
        if (ns, obj) not in self._described:
            self._described[(ns, obj)] = self._describe(ns, obj)
        return self._described[(ns, obj)]


def row_key(primary_key: Sequence[str], locator: str | None) -> tuple[tuple[str, ...], str]:
    """How rows are addressed, as (key, key_kind): the primary key, else the engine's row
    locator ("ctid", "rowid": also the kind), else not at all ("none": OFFSET pages, no edits)."""
    if primary_key:
        return tuple(primary_key), "primary"
    if locator:
        return (locator,), locator
    return (), "none"
