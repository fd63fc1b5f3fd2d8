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

from config.plainsql import PlainRows


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
def _users() -> tuple[PlainRows[Any], str]:
    rows = PlainRows(get_user_model())
    pk = rows.qn(rows.model._meta.pk.column)
    return rows, f"SELECT {rows.columns('u')} FROM {rows.table} u WHERE u.{pk} = %s"


class UserBackend(ModelBackend):
    """Django's ModelBackend; only `get_user`, run on every request, skips the query compiler."""

    def get_user(self, user_id: Any) -> Any:
        users, sql = _users()
        try:
            pk = users.model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a session holding a malformed id is no user
            return None
        found = users.fetch(sql, [pk])
        if not found:
            return None
        user = users.build(found[0])
        return user if self.user_can_authenticate(user) else None
