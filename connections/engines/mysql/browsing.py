"""MySQL's and MariaDB's grid: values cut in SQL, literals for INSERT exports, keys of inserted rows."""

from __future__ import annotations

import json
from typing import Any

from connections.engines.browse import Column, TableInfo
from connections.engines.sqlbrowse import SqlBrowsing

CUTTABLE = (
    "char",
    "varchar",
    "text",
    "tinytext",
    "mediumtext",
    "longtext",
    "blob",
    "tinyblob",
    "mediumblob",
    "longblob",
    "json",
    "binary",
    "varbinary",
)


class MySQLBrowsing(SqlBrowsing):
    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col = self.dialect.quote(column.name)
        if column.type.split("(")[0].lower() in CUTTABLE:
            return f"SUBSTRING({col}, 1, {int(cap)})", f"LENGTH({col})"
        return col, None

    def _literal(self, value: Any) -> str:
        if isinstance(value, dict | list):
            value = json.dumps(value)
        return str(self.adapter._conn().escape(value))

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['%s'] * len(args))})"
        self._execute(sql, args)
        values = dict(zip(columns, args, strict=True))
        if all(k in values for k in info.key):
            return {k: values[k] for k in info.key}
        if len(info.key) == 1:
            return {info.key[0]: self.adapter._db.insert_id()}
        return {}
