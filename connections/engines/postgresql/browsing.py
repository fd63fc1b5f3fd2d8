"""PostgreSQL's grid: values cut in SQL, literals for INSERT exports, keys returned by INSERT."""

from __future__ import annotations

import json
from typing import Any

import psycopg2

from connections.engines.browse import Column, TableInfo
from connections.engines.sqlbrowse import SqlBrowsing

TEXTUAL = ("text", "character", "json", "xml", "citext", "tsvector")


class PostgreSQLBrowsing(SqlBrowsing):
    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col = self.dialect.quote(column.name)
        if column.name == "ctid" and column.type == "tid":
            return col, None
        if column.type == "bytea":
            return f"substring({col} from 1 for {int(cap)})", f"octet_length({col})"
        if column.type.startswith(TEXTUAL) or column.type.endswith("[]"):
            return f"left({col}::text, {int(cap)})", f"octet_length({col}::text)"
        return col, None

    def _literal(self, value: Any) -> str:
        if isinstance(value, dict | list):
            value = json.dumps(value)
        with self.adapter._conn().cursor() as cur:
            return str(cur.mogrify("%s", [psycopg2.Binary(value) if isinstance(value, bytes) else value]).decode())

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        keys = ", ".join(self._key_expr(info, k) for k in info.key)
        if columns:
            cols = ", ".join(self.dialect.quote(c) for c in columns)
            sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['%s'] * len(args))}) RETURNING {keys}"
        else:
            sql = f"INSERT INTO {source} DEFAULT VALUES RETURNING {keys}"
        row = self._execute(sql, args)[0]
        return dict(zip(info.key, row, strict=True))
