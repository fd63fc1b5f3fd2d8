"""Redis values and edits: each type paged with its own command, changes refused for viewers."""

from __future__ import annotations

import json
from typing import Any

import redis
from redis import exceptions as rx

from connections.engines.base import EngineError
from connections.engines.browse import DETAIL_CELL_CAP, Cut, KeyBrowsing, KeyValue, Listing, Namespace
from connections.engines.redis.adapter import RedisAdapter
from connections.engines.redis.keynames import INT_CURSOR, escape_key, scan_position, unescape_key

VALUE_PAGE = 100
MEMBER_CAP = 2_000


def _text(value: Any) -> Any:
    """Stream fields show as JSON, so bytes become text (undecodable bytes escaped)."""
    if isinstance(value, Cut):
        value = value.value
    return escape_key(value) if isinstance(value, bytes) else value


def _cut(value: Any, cap: int) -> Any:
    if isinstance(value, bytes) and len(value) > cap:
        return Cut(value[:cap], len(value))
    return value


class RedisKeys(KeyBrowsing):
    adapter: RedisAdapter
    escape_key = staticmethod(escape_key)
    unescape_key = staticmethod(unescape_key)

    def namespaces(self) -> list[Namespace]:
        return self.adapter.introspection.namespaces()

    def scan_keys(
        self,
        db: int,
        *,
        prefix: str = "",
        pattern: str = "",
        type_filter: str = "",
        cursor: str | None = None,
        separator: str = ":",
    ) -> Listing:
        return self.adapter.introspection.scan_keys(
            db, prefix=prefix, pattern=pattern, type_filter=type_filter, cursor=cursor, separator=separator
        )

    def key_value(self, db: int, key: bytes, cursor: str | None = None, count: int = VALUE_PAGE) -> KeyValue | None:
        client = self.adapter._client(db)
        kind = self.adapter._call(client.type, key).decode()
        if kind == "none":
            return None
        ttl = self.adapter._call(client.ttl, key)
        try:
            memory = client.memory_usage(key, samples=5)
        except rx.RedisError:
            memory = None
        try:
            encoding = (client.object("encoding", key) or b"").decode()
        except rx.RedisError:
            encoding = ""
        position = scan_position(cursor)
        items: list[tuple[Any, Any]] = []
        length: int | None = None
        next_cursor: str | None = None
        if kind == "string":
            length = self.adapter._call(client.strlen, key)
            value = self.adapter._call(client.getrange, key, 0, DETAIL_CELL_CAP - 1)
            items = [("", Cut(value, length) if length > DETAIL_CELL_CAP else value)]
        elif kind == "hash":
            length = self.adapter._call(client.hlen, key)
            position, data = self.adapter._call(client.hscan, key, cursor=position, count=count)
            items = [(f, _cut(v, MEMBER_CAP)) for f, v in data.items()]
            next_cursor = str(position) if position else None
        elif kind == "list":
            length = self.adapter._call(client.llen, key)
            values = self.adapter._call(client.lrange, key, position, position + count - 1)
            items = [(position + i, _cut(v, MEMBER_CAP)) for i, v in enumerate(values)]
            next_cursor = str(position + count) if position + count < length else None
        elif kind == "set":
            length = self.adapter._call(client.scard, key)
            position, members = self.adapter._call(client.sscan, key, cursor=position, count=count)
            items = [(i, _cut(m, MEMBER_CAP)) for i, m in enumerate(members)]
            next_cursor = str(position) if position else None
        elif kind == "zset":
            length = self.adapter._call(client.zcard, key)
            position, members = self.adapter._call(client.zscan, key, cursor=position, count=count)
            items = [(score, _cut(m, MEMBER_CAP)) for m, score in members]
            next_cursor = str(position) if position else None
        elif kind == "stream":
            length = self.adapter._call(client.xlen, key)
            start = f"({cursor}" if cursor and not INT_CURSOR.fullmatch(cursor) else "-"
            entries = self.adapter._call(client.xrange, key, min=start, max="+", count=count)
            items = [
                (eid, {_text(k): _text(_cut(v, MEMBER_CAP)) for k, v in fields.items()}) for eid, fields in entries
            ]
            next_cursor = entries[-1][0].decode() if len(entries) == count else None
        elif kind == "ReJSON-RL":
            value = self.adapter._call(client.execute_command, "JSON.GET", key)
            items = [("", _cut(value, DETAIL_CELL_CAP))]
        else:
            items = [("", f"dbdeck does not display {kind} values yet.")]
        return KeyValue(
            key=key,
            type=kind,
            ttl=ttl if ttl >= 0 else None,
            length=length,
            memory=memory,
            items=items,
            next_cursor=next_cursor,
            encoding=encoding,
        )

    # ---- edits ---------------------------------------------------------------------------------
    def _summary(self, client: redis.Redis, key: bytes) -> dict[str, Any]:
        kind = self.adapter._call(client.type, key).decode()
        if kind == "string":
            return {"type": kind, "value": self.adapter._call(client.getrange, key, 0, 499)}
        return {"type": kind}

    def set_string(self, db: int, key: bytes, value: str, ttl: int | None = None) -> dict[str, Any]:
        self.adapter._writable()
        client = self.adapter._client(db)
        kind = self.adapter._call(client.type, key).decode()
        if kind not in ("string", "none"):
            raise EngineError(f"This key holds a {kind}; setting a string would replace it.", kind="config")
        before = self.adapter._call(client.getrange, key, 0, 499) if kind == "string" else None
        if ttl is not None and ttl <= 0:
            raise EngineError("A TTL must be a positive number of seconds.", kind="config")
        self.adapter._call(client.set, key, value.encode(), ex=ttl, keepttl=ttl is None and kind == "string")
        return {"before": before, "after": value}

    def rename_key(self, db: int, key: bytes, new_key: bytes) -> dict[str, Any]:
        self.adapter._writable()
        if not new_key:
            raise EngineError("Enter the new name.", kind="config")
        client = self.adapter._client(db)
        if not self.adapter._call(client.exists, key):
            raise EngineError("That key no longer exists.", kind="database")
        if not self.adapter._call(client.renamenx, key, new_key):
            raise EngineError("A key with the new name already exists; dbdeck never overwrites it.", kind="config")
        return {"before": escape_key(key), "after": escape_key(new_key)}

    def expire_key(self, db: int, key: bytes, ttl: int | None) -> dict[str, Any]:
        self.adapter._writable()
        client = self.adapter._client(db)
        before = self.adapter._call(client.ttl, key)
        if before == -2:
            raise EngineError("That key no longer exists.", kind="database")
        if ttl is None:
            self.adapter._call(client.persist, key)
        elif ttl <= 0:
            raise EngineError("A TTL must be a positive number of seconds; delete the key to remove it.", "config")
        else:
            self.adapter._call(client.expire, key, ttl)
        return {"before": None if before < 0 else before, "after": ttl}

    def delete_key(self, db: int, key: bytes) -> dict[str, Any]:
        self.adapter._writable()
        client = self.adapter._client(db)
        before = self._summary(client, key)
        if before["type"] == "none":
            raise EngineError("That key no longer exists.", kind="database")
        self.adapter._call(client.unlink, key)
        return before

    def edit_member(
        self,
        db: int,
        key: bytes,
        action: str,
        *,
        field: str = "",
        value: str = "",
        score: float | None = None,
        index: int | None = None,
    ) -> dict[str, Any]:
        self.adapter._writable()
        client = self.adapter._client(db)
        f, v = field.encode(), value.encode()
        match action:
            case "hset":
                before = self.adapter._call(client.hget, key, f)
                self.adapter._call(client.hset, key, f, v)
            case "hdel":
                before = self.adapter._call(client.hget, key, f)
                self.adapter._call(client.hdel, key, f)
            case "lset":
                if index is None:
                    raise EngineError("Enter the index to set.", kind="config")
                before = self.adapter._call(client.lindex, key, index)
                self.adapter._call(client.lset, key, index, v)
            case "rpush":
                before = None
                self.adapter._call(client.rpush, key, v)
            case "lrem":
                before = value
                self.adapter._call(client.lrem, key, 1, v)
            case "sadd":
                before = None
                self.adapter._call(client.sadd, key, v)
            case "srem":
                before = value
                self.adapter._call(client.srem, key, v)
            case "zadd":
                if score is None:
                    raise EngineError("Enter a score.", kind="config")
                before = self.adapter._call(client.zscore, key, v)
                self.adapter._call(client.zadd, key, {v: score})
            case "zrem":
                before = self.adapter._call(client.zscore, key, v)
                self.adapter._call(client.zrem, key, v)
            case "xadd":
                try:
                    fields = json.loads(value)
                except ValueError:
                    fields = None
                if not isinstance(fields, dict) or not fields:
                    raise EngineError('Enter the entry as a JSON object, e.g. {"field": "value"}.', kind="config")
                before = None
                self.adapter._call(client.xadd, key, {str(k): str(val) for k, val in fields.items()})
            case "xdel":
                before = field
                self.adapter._call(client.xdel, key, f)
            case _:
                raise EngineError(f"Unknown change {action!r}.", kind="config")
        return {"change": action, "field": field, "before": before, "after": value}
