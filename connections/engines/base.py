"""The engine-adapter contract: plain dataclasses, one error type, capabilities by dotted path.

Adapters know their engine and nothing about Django. They are built from a
`ConnectionParams` (keyword arguments, never a DSN assembled from user input)
and must honour `connect_timeout` on every network call.

What an engine can do beyond connecting is a capability: a small class bound to
the adapter (`adapter.get(TableBrowsing)`), listed by dotted path in the adapter
class's `capabilities` and imported on first use. A listed module that is not
there means the capability is absent, so a feature lands in an engine by adding
its file and one line.
"""

from __future__ import annotations

import functools
import importlib.util
from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, ClassVar, TypeVar


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
    # The engine's own options (Adapter.options), already allowlisted by the caller, and
    # read_only (bool): a viewer's session, enforced by the server where it can be.
    extra: dict[str, Any] = field(default_factory=dict)
    # The resolved address the host policy approved; adapters connect to it where
    # the driver allows, so a DNS answer cannot change between check and connect.
    address: str = ""


@dataclass(frozen=True)
class ServerInfo:
    version: str
    latency_ms: float
    detail: str = ""


class Capability(ABC):  # noqa: B024  (contracts below add the abstract methods)
    """A feature bound to one adapter: a contract (TableBrowsing, Explain, ...) or an engine's implementation of it."""

    # What the feature shows, for "PostgreSQL has no keys" when a page meant for another engine is opened.
    noun: ClassVar[str] = ""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter


C = TypeVar("C", bound=Capability)


@dataclass(frozen=True)
class Option:
    """An engine-specific setting: a connection-form field, kept in `Connection.options`, sent as `params.extra`."""

    name: str
    label: str  # says which engine it is for, so the form reads right without JavaScript
    choices: tuple[tuple[str, str], ...] = ()  # empty: free text
    initial: str = ""
    max_length: int = 64
    in_form: bool = True  # False: accepted in options (API, admin) but not offered in the form


# The connection settings an engine may use, in the terms `validate()` and `form_fields` speak.
SETTINGS = ("host", "port", "database", "username", "password", "tls_mode")


class Adapter:
    """Base class for engine adapters: connect, `check()`, errors, pooling hooks, and how to configure it."""

    engine: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    # Capabilities this engine has: contract -> dotted path of the class implementing it.
    capabilities: ClassVar[Mapping[type[Capability], str]] = {}
    # The connection form: which of SETTINGS it uses, labels of its own, its options and defaults.
    form_fields: ClassVar[tuple[str, ...]] = SETTINGS
    form_labels: ClassVar[Mapping[str, str]] = {}
    options: ClassVar[tuple[Option, ...]] = ()
    default_port: ClassVar[int | None] = None
    default_tls: ClassVar[str] = "prefer"
    # The `database` setting is a file on dbdeck's own disk (the path policy applies), not a name on a server.
    database_is_file: ClassVar[bool] = False
    # What the first browse level is called ("Schemas", "Databases", "Buckets").
    namespaces_title: ClassVar[str] = "Databases"
    # Templates read class attributes (`connection.adapter_cls.display_name`); they must not call the class.
    do_not_call_in_templates: ClassVar[bool] = True

    def __init__(self, params: ConnectionParams) -> None:
        self.params = params
        self._bound: dict[type[Capability], Capability] = {}

    # ---- capabilities ------------------------------------------------------------------
    @classmethod
    def has(cls, capability: type[Capability]) -> bool:
        """Whether this engine has the capability: listed, and its module is there (not imported here)."""
        dotted = cls.capabilities.get(capability)
        return dotted is not None and module_present(dotted.rpartition(".")[0])

    def get(self, capability: type[C]) -> C | None:
        """The capability bound to this adapter, imported and made on first use; None when the engine lacks it."""
        if capability not in self._bound:
            if not self.has(capability):
                return None
            module_name, _, class_name = self.capabilities[capability].rpartition(".")
            implementation = getattr(import_module(module_name), class_name)
            if not issubclass(implementation, capability):
                raise TypeError(f"{implementation.__qualname__} does not implement {capability.__qualname__}.")
            self._bound[capability] = implementation(self)
        bound: C = self._bound[capability]  # type: ignore[assignment]
        return bound

    # ---- configuration ----------------------------------------------------------------
    @classmethod
    def uses(cls, setting: str) -> bool:
        return setting in cls.form_fields

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return tuple(option.name for option in cls.options)

    @classmethod
    def validate(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        """Errors by setting name (empty when usable); `settings` holds SETTINGS and the options."""
        errors: dict[str, str] = {}
        if cls.uses("host") and not str(settings.get("host") or "").strip():
            errors["host"] = f"{cls.display_name} needs a host."
        return errors

    # ---- the connection's life ----------------------------------------------------------
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


@functools.cache
def module_present(name: str) -> bool:
    """Whether a module file is there, without importing it (its parent packages are imported)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing too
        return False


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
