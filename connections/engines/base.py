"""The engine-adapter contract: plain dataclasses, one error type, capability flags.

Adapters know their engine and nothing about Django. They are built from a
`ConnectionParams` (keyword arguments, never a DSN assembled from user input)
and must honour `connect_timeout` on every network call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


class EngineError(Exception):
    """A driver failure, with a message that is safe to show and says what to fix.

    `kind` is one of: "auth", "unreachable", "tls", "database", "timeout",
    "permission", "config", "unknown".
    """

    def __init__(self, message: str, kind: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ConnectionParams:
    """Everything an adapter needs to connect. `password` is never logged or echoed."""

    engine: str
    host: str = ""
    port: int | None = None
    database: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    # tls_mode: "disable" | "prefer" | "require" | "verify-full"
    tls_mode: str = "prefer"
    connect_timeout: float = 5.0
    statement_timeout: float = 30.0
    # Engine-specific extras, already allowlisted by the caller:
    #   mongodb: auth_source, replica_set, direct_connection
    #   s3: region, addressing_style ("path" | "virtual")
    #   sqlite: read_only (bool)
    extra: dict[str, Any] = field(default_factory=dict)
    # The resolved address the host policy approved; adapters connect to it where
    # the driver allows, so a DNS answer cannot change between check and connect.
    address: str = ""


@dataclass(frozen=True)
class ServerInfo:
    version: str
    latency_ms: float
    detail: str = ""


class Adapter:
    """Base class for engine adapters. Subclasses set the flags and implement `check()`."""

    engine: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    default_port: ClassVar[int | None] = None
    # Capability flags: views ask these, never `if engine == ...`.
    supports_schemas: ClassVar[bool] = False
    supports_sql: ClassVar[bool] = False
    supports_explain: ClassVar[bool] = False
    supports_explain_analyze: ClassVar[bool] = False
    supports_tls: ClassVar[bool] = True
    uses_host: ClassVar[bool] = True
    uses_username: ClassVar[bool] = True
    uses_database: ClassVar[bool] = True

    def __init__(self, params: ConnectionParams) -> None:
        self.params = params

    def check(self) -> ServerInfo:
        raise NotImplementedError

    def close(self) -> None:
        """Release any open client; safe to call twice."""

    def reset(self) -> bool:
        """End any transaction so the adapter can be reused; False if it cannot be."""
        return True

    def healthy(self) -> bool:
        """Whether a pooled adapter can still talk to its server (cheap)."""
        return True

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def refuse_nul(*names: str) -> None:
    """Names travel to drivers as C strings; a NUL byte would cut them short."""
    for name in names:
        if "\x00" in name:
            raise EngineError("Names cannot contain a NUL byte.", kind="config")


# What drivers raise when they refuse a value before sending it: psycopg2's ValueError
# for a NUL byte, sqlite3's OverflowError for an integer past 64 bits, PyMySQL's
# TypeError for a container, and the like. Adapters catch these next to their own errors.
VALUE_ERRORS = (ValueError, TypeError, OverflowError)


def value_refused(engine: str, exc: BaseException) -> EngineError:
    why = "a text value contains a NUL byte" if "NUL" in str(exc) or "\\x00" in str(exc) else first_line(exc, 160)
    return EngineError(f"{engine} cannot take that value ({why}); change it and try again.", kind="config")


def unreachable(params: ConnectionParams) -> EngineError:
    where = f"{params.host}:{params.port}" if params.port else params.host
    return EngineError(
        f"Could not reach {where} within {params.connect_timeout:g} s. Check the host, the port and any firewall "
        "between dbdeck and the server.",
        kind="unreachable",
    )


def wrong_credentials(params: ConnectionParams) -> EngineError:
    who = f" for user {params.username!r}" if params.username else ""
    return EngineError(f"Wrong username or password{who}. Check the saved credentials.", kind="auth")


def read_only_refusal() -> EngineError:
    return EngineError("Your role on this connection is read-only, so the change was refused.", kind="permission")


def first_line(text: object, limit: int = 300) -> str:
    """A driver message cut to its first line: enough to act on, no echoed statement or context."""
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line[:limit]
