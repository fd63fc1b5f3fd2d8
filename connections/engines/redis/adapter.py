"""Redis through redis-py: connect with timeouts and no retries, errors, check; viewers' writes refused here."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from connections.engines.base import (
    Adapter,
    ConnectionParams,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    unreachable,
    wrong_credentials,
)
from connections.engines.browse import KeyBrowsing
from connections.engines.capabilities import Backup, Console, Monitor
from connections.engines.redis.introspection import RedisIntrospection

if TYPE_CHECKING:
    import redis

# redis-py is imported where a Redis connection is used, not when the engine list loads.


class RedisAdapter(Adapter):
    engine = "redis"
    display_name = "Redis"
    capabilities = {
        KeyBrowsing: "connections.engines.redis.browsing.RedisKeys",
        Backup: "connections.engines.redis.backup.RedisBackup",
        Monitor: "connections.engines.redis.monitor.RedisMonitor",
        Console: "connections.engines.redis.console.RedisConsole",
    }
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    form_labels = {"database": "Database index"}
    default_port = 6379
    default_tls = "prefer"

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._clients: dict[int, redis.Redis] = {}

    @classmethod
    def validate(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        errors = super().validate(settings)
        database = str(settings.get("database") or "")
        if database and not re.fullmatch(r"[0-9]{1,5}", database):
            errors["database"] = "A Redis database is a number (0 to 15 on a default server)."
        return errors

    @cached_property
    def introspection(self) -> RedisIntrospection:
        return RedisIntrospection(self)

    def _client(self, db: int | None = None) -> redis.Redis:
        p = self.params
        if db is None:
            db = int(p.database or 0)
        if db not in self._clients:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            tls = p.tls_mode in ("require", "verify-full")
            self._clients[db] = redis.Redis(
                host=p.address or p.host,
                port=p.port or self.default_port,
                db=db,
                username=p.username or None,
                password=p.password or None,
                socket_connect_timeout=p.connect_timeout,
                socket_timeout=p.statement_timeout,
                ssl=tls,
                ssl_cert_reqs="required" if p.tls_mode == "verify-full" else "none",
                client_name="dbdeck",
                retry=Retry(NoBackoff(), 0),
                decode_responses=False,
            )
        return self._clients[db]

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from redis import exceptions as rx

        try:
            return fn(*args, **kwargs)
        except rx.AuthenticationError:
            raise wrong_credentials(self.params) from None
        except rx.ResponseError as exc:
            text = first_line(exc)
            if "WRONGPASS" in text or "NOAUTH" in text or "invalid password" in text.lower():
                raise wrong_credentials(self.params) from None
            if "NOPERM" in text:
                raise EngineError(f"Permission denied by the server's ACL: {text}", kind="permission") from None
            if "DB index is out of range" in text:
                raise EngineError("That database index does not exist on this server.", kind="database") from None
            raise EngineError(f"Redis said: {text}", kind="config") from None
        except rx.TimeoutError:
            raise EngineError(f"Redis did not answer within {self.params.statement_timeout:g} s.", "timeout") from None
        except (rx.DataError, ValueError, OverflowError) as exc:
            # redis-py refuses a value before sending it (wrong type, out of range).
            raise EngineError(f"Redis cannot take that value: {first_line(exc, 160)}", kind="config") from None
        except rx.ConnectionError as exc:
            if "ssl" in str(exc).lower() or "tls" in str(exc).lower():
                raise EngineError("The TLS handshake failed: check the TLS setting.", kind="tls") from None
            raise unreachable(self.params) from None

    def _writable(self) -> None:
        # Redis has no read-only session; for viewers dbdeck itself sends only read commands.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def close(self) -> None:
        from redis import exceptions as rx

        for client in self._clients.values():
            try:
                client.close()
            except rx.RedisError:
                pass
        self._clients = {}

    def check(self) -> ServerInfo:
        client = self._client()
        info = self._call(client.info, "server")
        started = time.perf_counter()
        self._call(client.ping)
        latency = (time.perf_counter() - started) * 1000
        name = "Valkey" if "valkey_version" in info else "Redis"
        return ServerInfo(
            version=f"{name} {info.get('valkey_version') or info.get('redis_version')}", latency_ms=latency
        )
