"""The two lookups every signed-in request makes, its session and its user, without the ORM's
query compiler: each is one statement by primary key, and compiling it cost ten times the
statement itself (about 0.3 ms against 0.03 ms on the embedded metadata database).

Both keep Django's behaviour: an expired or unknown session loads as empty and loses its
key; a missing or inactive user is no user.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DbSessionStore):
    """django.contrib.sessions' database store, reading its row with one plain statement."""

    def load(self) -> dict[str, Any]:
        key = self.session_key
        if not key:
            return {}
        model = self.model
        db = router.db_for_read(model)
        conn = connections[db]
        qn = conn.ops.quote_name
        sql = (
            f"SELECT {qn('session_data')} FROM {qn(model._meta.db_table)}"
            f" WHERE {qn('session_key')} = %s AND {qn('expire_date')} > %s"
        )
        with conn.cursor() as cur:
            cur.execute(sql, [key, conn.ops.adapt_datetimefield_value(timezone.now())])
            row = cur.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])


@cache
def _user_select(db: str) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
    """The statement, the attribute names, and the backend's converters per column (as the ORM applies them)."""
    model = get_user_model()
    fields = list(model._meta.concrete_fields)
    conn = connections[db]
    qn = conn.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    sql = f"SELECT {columns} FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s"
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
        if found:
            converters.append((i, col, found))
    return sql, [f.attname for f in fields], converters


class UserBackend(ModelBackend):
    """Django's ModelBackend; only `get_user`, run on every request, skips the query compiler."""

    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a session holding a malformed id is no user
            return None
        db = router.db_for_read(model)
        conn = connections[db]
        sql, names, converters = _user_select(db)
        with conn.cursor() as cur:
            cur.execute(sql, [pk])
            row = cur.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, col, funcs in converters:
            for convert in funcs:
                values[i] = convert(values[i], col, conn)
        user = model.from_db(db, names, values)
        return user if self.user_can_authenticate(user) else None
