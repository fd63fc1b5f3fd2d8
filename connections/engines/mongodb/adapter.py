"""MongoDB through pymongo: connect with timeouts, errors, check; viewers' writes refused before sending."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from connections.engines.base import (
    VALUE_ERRORS,
    Adapter,
    ConnectionParams,
    EngineError,
    Option,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    value_refused,
    wrong_credentials,
)
from connections.engines.browse import TableBrowsing
from connections.engines.capabilities import Backup, Console, Explain, IndexTools, Monitor
from connections.engines.mongodb.introspection import MongoDBIntrospection
from connections.engines.partitions import Partitioning

if TYPE_CHECKING:
    from pymongo import MongoClient

# pymongo is imported where a MongoDB connection is used, not when the engine list loads.


class MongoDBAdapter(Adapter):
    engine = "mongodb"
    display_name = "MongoDB"
    capabilities = {
        TableBrowsing: "connections.engines.mongodb.browsing.MongoDBBrowsing",
        Explain: "connections.engines.mongodb.explain.MongoDBExplain",
        IndexTools: "connections.engines.mongodb.indexes.MongoDBIndexTools",
        Partitioning: "connections.engines.mongodb.introspection.MongoDBPartitioning",
        Backup: "connections.engines.mongodb.backup.MongoDBBackup",
        Monitor: "connections.engines.mongodb.monitor.MongoDBMonitor",
        Console: "connections.engines.mongodb.console.MongoDBConsole",
    }
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    options = (
        Option("auth_source", "Auth database (MongoDB)"),
        Option("replica_set", "Replica set (MongoDB)"),
        Option("direct_connection", "Direct connection (MongoDB)", in_form=False),
    )
    default_port = 27017
    default_tls = "prefer"

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._client: MongoClient | None = None

    @cached_property
    def introspection(self) -> MongoDBIntrospection:
        return MongoDBIntrospection(self)

    def _mongo(self) -> MongoClient:
        if self._client is None:
            from pymongo import MongoClient

            p = self.params
            refuse_nul(p.username, p.password, p.database)
            kwargs: dict[str, Any] = {
                "host": p.address or p.host,
                "port": p.port or self.default_port,
                "serverSelectionTimeoutMS": int(p.connect_timeout * 1000),
                "connectTimeoutMS": int(p.connect_timeout * 1000),
                "socketTimeoutMS": int((p.statement_timeout + 5) * 1000),
                "appname": "dbdeck",
                "directConnection": bool(p.extra.get("direct_connection", True)),
                "tz_aware": True,
            }
            if p.username:
                kwargs.update(
                    username=p.username,
                    password=p.password,
                    authSource=p.extra.get("auth_source") or p.database or "admin",
                )
            if p.extra.get("replica_set"):
                kwargs["replicaSet"] = p.extra["replica_set"]
                kwargs["directConnection"] = False
            if p.tls_mode in ("require", "verify-full"):
                kwargs.update(tls=True, tlsAllowInvalidCertificates=p.tls_mode != "verify-full")
            self._client = MongoClient(**kwargs)
        return self._client

    @property
    def _max_ms(self) -> int:
        return int(self.params.statement_timeout * 1000)

    @contextmanager
    def driver_errors(self) -> Iterator[None]:
        """Driver errors, and values bson refuses before sending them, as EngineError."""
        from bson.errors import BSONError
        from pymongo import errors as mx

        try:
            yield
        except mx.PyMongoError as exc:
            raise self._error(exc) from None
        except (BSONError, *VALUE_ERRORS) as exc:
            # bson refuses a value before sending it: InvalidDocument, ints past 64 bits, bad keys.
            raise value_refused("MongoDB", exc) from None

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with self.driver_errors():
            return fn(*args, **kwargs)

    def _error(self, exc: Exception) -> EngineError:
        from pymongo import errors as mx

        if isinstance(exc, mx.OperationFailure):
            message = first_line((exc.details or {}).get("errmsg") or exc)
            if exc.code == 18:
                return wrong_credentials(self.params)
            if exc.code == 13:
                return EngineError(f"Permission denied: {message}", kind="permission")
            if exc.code == 50:
                return EngineError(f"The query ran past the {self.params.statement_timeout:g} s timeout.", "timeout")
            return EngineError(f"MongoDB said: {message}", kind="config")
        if isinstance(exc, mx.ConfigurationError | mx.InvalidName):
            return EngineError(f"That is not valid for MongoDB: {first_line(exc)}", kind="config")
        if isinstance(exc, mx.ServerSelectionTimeoutError | mx.AutoReconnect | mx.NetworkTimeout):
            if "ssl" in str(exc).lower() or "tls" in str(exc).lower():
                return EngineError("The TLS handshake failed: check the TLS setting.", kind="tls")
            return unreachable(self.params)
        return EngineError(f"MongoDB failed: {first_line(exc)}", kind="unknown")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def check(self) -> ServerInfo:
        client = self._mongo()
        build = self._call(client.admin.command, "buildInfo")
        started = time.perf_counter()
        self._call(client.admin.command, "ping")
        latency = (time.perf_counter() - started) * 1000
        return ServerInfo(version=f"MongoDB {build.get('version', '?')}", latency_ms=latency)

    def _writable(self) -> None:
        # MongoDB has no read-only session: viewers' adapters refuse writes before sending them,
        # and a read-only credential (a user with the `read` role) makes the server refuse too.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def _collection(self, ns: str, obj: str) -> Any:
        refuse_nul(ns, obj)
        if not ns or not obj:
            raise EngineError("Choose a database and a collection.", kind="config")
        return self._mongo()[ns][obj]
