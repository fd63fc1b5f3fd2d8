"""Redis's keyspace: databases with key counts, and a key tree grouped by separator from bounded SCAN."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connections.engines.browse import Listing, Namespace, ObjectInfo
from connections.engines.redis.keynames import escape_key, glob_escape, scan_position, unescape_key

if TYPE_CHECKING:
    import redis

    from connections.engines.redis.adapter import RedisAdapter

SCAN_COUNT = 1000
SCAN_BUDGET = 10_000  # keys looked at per page, whatever the database size
PAGE_KEYS = 200  # keys shown per page before "scan more"


class RedisIntrospection:
    def __init__(self, adapter: RedisAdapter) -> None:
        self.adapter = adapter

    def namespaces(self) -> list[Namespace]:
        keyspace = self.adapter._call(self.adapter._client().info, "keyspace")
        current = int(self.adapter.params.database or 0)
        dbs = {current: 0}
        for name, stats in keyspace.items():
            if str(name).startswith("db"):
                dbs[int(str(name)[2:])] = int(stats.get("keys", 0)) if isinstance(stats, dict) else 0
        return [Namespace(name=str(n), detail=f"{count:,} keys") for n, count in sorted(dbs.items())]

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
        client = self.adapter._client(db)
        raw_prefix, sep = unescape_key(prefix), separator.encode()
        match = pattern.encode() if pattern else glob_escape(raw_prefix) + b"*"
        position = scan_position(cursor)
        groups: dict[bytes, int] = {}
        leaves: list[bytes] = []
        scanned = 0
        while True:
            position, keys = self.adapter._call(
                client.scan, cursor=position, match=match, count=SCAN_COUNT, _type=type_filter or None
            )
            scanned += SCAN_COUNT
            for key in keys:
                if not key.startswith(raw_prefix):
                    continue
                rest = key[len(raw_prefix) :]
                head, found, _ = rest.partition(sep)
                if found and head:
                    groups[head] = groups.get(head, 0) + 1
                else:
                    leaves.append(key)
            if position == 0 or scanned >= SCAN_BUDGET or len(leaves) + len(groups) >= PAGE_KEYS:
                break
        items = [
            ObjectInfo(
                name=escape_key(head) + separator,
                kind="prefix",
                estimated_rows=count,
                extra={"prefix": escape_key(raw_prefix + head + sep)},
            )
            for head, count in sorted(groups.items())
        ]
        items.extend(self._key_rows(client, sorted(leaves)[: PAGE_KEYS * 2], raw_prefix))
        return Listing(items=items, next_cursor=str(position) if position else None, scanned=scanned)

    def _key_rows(self, client: redis.Redis, keys: list[bytes], prefix: bytes) -> list[ObjectInfo]:
        if not keys:
            return []
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
            pipe.ttl(key)
            pipe.memory_usage(key, samples=5)
        results = self.adapter._call(pipe.execute, raise_on_error=False)
        rows = []
        for i, key in enumerate(keys):
            kind, ttl, memory = results[3 * i : 3 * i + 3]
            rows.append(
                ObjectInfo(
                    name=escape_key(key[len(prefix) :]) or escape_key(key),
                    kind="key",
                    size_bytes=memory if isinstance(memory, int) else None,
                    detail=kind.decode() if isinstance(kind, bytes) else "",
                    extra={"key": escape_key(key), "ttl": ttl if isinstance(ttl, int) and ttl >= 0 else None},
                )
            )
        return rows
