"""Engine registry: adapters are registered by dotted path and imported lazily.

Adding an engine is one package under connections/engines/, its tests, and one line
here (docs/engines.md); the model's engine choices and the connection form follow.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from connections.engines.base import Adapter, ConnectionParams, EngineError, ServerInfo

ENGINES: dict[str, str] = {
    "postgresql": "connections.engines.postgresql.adapter.PostgreSQLAdapter",
    "mysql": "connections.engines.mysql.adapter.MySQLAdapter",
    "sqlite": "connections.engines.sqlite.adapter.SQLiteAdapter",
    "mongodb": "connections.engines.mongodb.adapter.MongoDBAdapter",
    "redis": "connections.engines.redis.adapter.RedisAdapter",
    "s3": "connections.engines.s3.adapter.S3Adapter",
    "gcs": "connections.engines.gcs.adapter.GCSAdapter",
    "azure": "connections.engines.azure.adapter.AzureAdapter",
}


def adapter_class(engine: str) -> type[Adapter]:
    try:
        dotted = ENGINES[engine]
    except KeyError:
        raise EngineError(f"Unknown engine {engine!r}.", kind="config") from None
    return _load(dotted)


@cache
def _load(dotted: str) -> type[Adapter]:
    """Import an adapter class once per process (pages ask for engines' names on every row)."""
    module_name, _, class_name = dotted.rpartition(".")
    cls: type[Adapter] = getattr(import_module(module_name), class_name)
    return cls


def adapter_classes() -> list[type[Adapter]]:
    """Every registered adapter class, in registry order (imports each engine's adapter module)."""
    return [adapter_class(engine) for engine in ENGINES]


def choices() -> list[tuple[str, str]]:
    """(engine, display name) for every registered engine: the model's and the form's engine choices."""
    return [(engine, adapter_class(engine).display_name) for engine in ENGINES]


def open_adapter(params: ConnectionParams) -> Adapter:
    return adapter_class(params.engine)(params)


__all__ = [
    "ENGINES",
    "Adapter",
    "ConnectionParams",
    "EngineError",
    "ServerInfo",
    "adapter_class",
    "adapter_classes",
    "choices",
    "open_adapter",
]
