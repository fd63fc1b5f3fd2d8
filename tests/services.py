"""Private, real servers for the test session (interface; implementation pending)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connections.engines.base import ConnectionParams


@dataclass
class Server:
    engine: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    database: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self, **overrides: Any) -> ConnectionParams:
        values: dict[str, Any] = {
            "engine": self.engine,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.username,
            "password": self.password,
            "tls_mode": "disable",
            "connect_timeout": 5.0,
            "extra": dict(self.extra),
        }
        values.update(overrides)
        return ConnectionParams(**values)


@dataclass
class Servers:
    postgresql: Server
    mysql: Server
    redis: Server
    mongodb: Server
    s3: Server
