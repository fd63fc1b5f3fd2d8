"""SQLite's grid: values cut in SQL, literals for INSERT exports, keys of inserted rows."""

from __future__ import annotations

from typing import Any

from connections.engines.browse import Column, TableInfo
from connections.engines.sqlbrowse import SqlBrowsing


def _string_literal(value: str) -> str:
    if "\x00" in value:  # a C-string literal would end at the NUL; spell the bytes instead
        return f"CAST(X'{value.encode().hex()}' AS TEXT)"
    return "'" + value.replace("'", "''") + "'"


class SQLiteBrowsing(SqlBrowsing):
    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col, n = self.dialect.quote(column.name), int(cap)
        return (
            f"CASE WHEN typeof({col}) IN ('text', 'blob') AND length(CAST({col} AS BLOB)) > {n}"
            f" THEN substr({col}, 1, {n}) ELSE {col} END",
            f"CASE WHEN typeof({col}) IN ('text', 'blob') THEN length(CAST({col} AS BLOB)) END",
        )

    def _literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, bytes):
            return f"X'{value.hex()}'"
        return _string_literal(str(value))

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        if columns:
            cols = ", ".join(self.dialect.quote(c) for c in columns)
            sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['?'] * len(args))})"
        else:
            sql = f"INSERT INTO {source} DEFAULT VALUES"
        db = self.adapter._conn()
        self._execute(sql, args)
        values = dict(zip(columns, args, strict=True))
        if all(k in values for k in info.key):
            return {k: values[k] for k in info.key}
        rowid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        if info.key_kind == "rowid" or len(info.key) == 1:
            return {info.key[0]: rowid}
        return {}
