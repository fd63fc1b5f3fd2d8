"""Engine registry: adapters are registered by dotted path and imported lazily."""

from __future__ import annotations

from importlib import import_module

from connections.engines.base import Adapter, ConnectionParams, EngineError, ServerInfo

ENGINES: dict[str, str] = {
    "postgresql": "connections.engines.postgresql.adapter.PostgreSQLAdapter",
    "mysql": "connections.engines.mysql.adapter.MySQLAdapter",
    "sqlite": "connections.engines.sqlite.adapter.SQLiteAdapter",
    "mongodb": "connections.engines.mongodb.adapter.MongoDBAdapter",
    "redis": "connections.engines.redis.adapter.RedisAdapter",
    "s3": "connections.engines.s3.adapter.S3Adapter",
}


def adapter_class(engine: str) -> type[Adapter]:
    try:
        dotted = ENGINES[engine]
    except KeyError:
        raise EngineError(f"Unknown engine {engine!r}.", kind="config") from None
    module_name, _, class_name = dotted.rpartition(".")
    cls: type[Adapter] = getattr(import_module(module_name), class_name)
    return cls


def open_adapter(params: ConnectionParams) -> Adapter:
    return adapter_class(params.engine)(params)


__all__ = ["ENGINES", "Adapter", "ConnectionParams", "EngineError", "ServerInfo", "adapter_class", "open_adapter"]
