"""Model rows from a fixed statement, without the ORM's query compiler.

The pages every user opens all the time (any signed-in request, a connection with the
user's role on it, the connection list) run a handful of tiny primary-key statements.
Compiling each through the ORM costs about ten times running it, so these few paths
write their statement once and build the model instances the way the ORM would:
`Model.from_db` with the backend's and the fields' converters applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)


class PlainRows(Generic[M]):
    """How to select a model's concrete columns and turn a slice of a result row back into an instance."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    @cached_property
    def db(self) -> str:
        return router.db_for_read(self.model)

    @property
    def connection(self) -> Any:
        return connections[self.db]

    @cached_property
    def _fields(self) -> list[Any]:
        return list(self.model._meta.concrete_fields)

    @cached_property
    def width(self) -> int:
        return len(self._fields)

    @cached_property
    def table(self) -> str:
        return self.qn(self.model._meta.db_table)

    def qn(self, name: str) -> str:
        return str(self.connection.ops.quote_name(name))

    def columns(self, alias: str) -> str:
        return ", ".join(f"{alias}.{self.qn(f.column)}" for f in self._fields)

    def column(self, alias: str, name: str) -> str:
        return f"{alias}.{self.qn(self.model._meta.get_field(name).column)}"

    @cached_property
    def _converters(self) -> list[tuple[int, Any, list[Any]]]:
        conn = self.connection
        found = []
        for i, field in enumerate(self._fields):
            col = field.get_col(self.model._meta.db_table)
            funcs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if funcs:
                found.append((i, col, funcs))
        return found

    def build(self, values: Sequence[Any]) -> M:
        values = list(values[: self.width])
        conn = self.connection
        for i, col, funcs in self._converters:
            for convert in funcs:
                values[i] = convert(values[i], col, conn)
        return self.model.from_db(self.db, [f.attname for f in self._fields], values)

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cur:
            cur.execute(sql, list(params))
            return list(cur.fetchall())
