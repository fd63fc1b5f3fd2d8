"""The contracts of the features that come per engine: Console, Explain, IndexTools, Backup, Monitor.

An engine has a feature when its adapter lists an implementation by dotted path
(`capabilities = {Explain: "connections.engines.postgresql.explain.PostgreSQLExplain"}`)
and that module is there. Variants live on the capability (`Explain.can_analyze`,
`IndexTools.online`), so a page asks the capability, never the engine's name.

Every method streams (rows, plans and dumps in batches, never whole in memory) and
honours the connection's connect and statement timeouts. Browsing's contracts
(TableBrowsing, KeyBrowsing, ObjectBrowsing) live in `browse.py`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, ClassVar, Protocol

from connections.engines.base import Capability
from connections.engines.browse import KeyBrowsing, ObjectBrowsing, TableBrowsing
from connections.engines.partitions import Partitioning
from connections.engines.results import (
    BackupManifest,
    BackupScope,
    IndexFinding,
    IndexSuggestion,
    IndexUsage,
    ObjectCount,
    Plan,
    Progress,
    RestoreReport,
    ResultChunk,
    SessionInfo,
    Snapshot,
)


class Console(Capability):
    """Statements typed by a person, run one after another, results streamed batch by batch."""

    noun = "query console"
    language: ClassVar[str] = "sql"  # "sql", "mongo" (find / aggregate as JSON), "redis" (argv)
    isolation_levels: ClassVar[tuple[str, ...]] = ()  # offered in transaction mode; empty: no transactions

    @abstractmethod
    def execute(self, text: str, *, timeout: float, batch: int = 1000) -> Iterator[ResultChunk]:
        """Run every statement in `text` in order; a statement that fails ends the run with its error chunk."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the running statement on the server (called from another thread)."""

    # Set by the session host when an admin confirmed the commands `dangerous()` named.
    allow_dangerous: bool = False
    in_transaction: bool = False

    def statements(self, text: str) -> list[Any]:
        """The statements of `text` with their start offsets (objects with `.start` and `.text`)."""
        return []

    def dangerous(self, text: str) -> list[str]:
        """Commands in `text` refused for everybody unless an admin confirms them (FLUSHALL, $where, ...)."""
        return []

    def next_statement(self) -> None:
        """Stop fetching the current statement's rows; the run goes on with the next statement."""

    def begin(self, isolation: str = "") -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError


class Explain(Capability):
    """The server's plan for a statement, normalized into a tree of PlanNode."""

    noun = "EXPLAIN"
    can_analyze: ClassVar[bool] = False  # runs the statement (rolled back when it writes) for actual figures

    @abstractmethod
    def explain(self, statement: str, *, analyze: bool = False) -> Plan: ...


class IndexTools(Capability):
    """Indexes of a table or collection, findings across a database, advice, and online builds."""

    noun = "index tools"
    online: ClassVar[bool] = False  # builds and drops without blocking writes
    hypothetical: ClassVar[bool] = False  # advice measured with hypothetical indexes (HypoPG), not heuristics

    @abstractmethod
    def list_indexes(self, ns: str, obj: str) -> list[IndexUsage]: ...

    @abstractmethod
    def findings(self, ns: str) -> list[IndexFinding]:
        """Unused, duplicate, prefix and invalid indexes, and tables scanned without a fitting one."""

    @abstractmethod
    def suggest(self, statement: str) -> list[IndexSuggestion]: ...

    @abstractmethod
    def create(self, ns: str, obj: str, columns: tuple[str, ...], *, unique: bool = False) -> Iterator[Progress]:
        """Build the index, yielding progress; a failed build leaves nothing half-made behind."""

    @abstractmethod
    def drop(self, ns: str, obj: str, name: str) -> Iterator[Progress]: ...


class Sink(Protocol):
    """Where a dump goes: named parts, each written as a stream (compression and upload happen behind it)."""

    def part(self, name: str) -> AbstractContextManager[BinaryIO]: ...


class Source(Protocol):
    """A dump to restore from: its parts by name, each read as a stream."""

    def names(self) -> list[str]: ...

    def part(self, name: str) -> AbstractContextManager[BinaryIO]: ...


class Backup(Capability):
    """Streamed dumps with what they contain, restores that stop at the first error, and counts to verify."""

    noun = "backups"
    method: ClassVar[str] = ""  # what the manifest names, e.g. "pg_dump"
    # The restore-test's sandbox: "ephemeral" (the worker starts a private server) or "connection" (a sandbox one).
    sandbox: ClassVar[str] = "ephemeral"

    @abstractmethod
    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest: ...

    @abstractmethod
    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        """Restore into `target` (a database, namespace, file or prefix on this adapter's server).

        Stops at the first error. `clean` replaces what exists there; without it the target must be fresh.
        """

    @abstractmethod
    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        """What each object holds now, as the manifest records it, to compare after a restore."""

    def estimate(self, scope: BackupScope) -> int | None:
        """Roughly how many bytes the dump reads (for the progress bar and ETA); None when unknown."""
        return None

    def create_target(self, target: str) -> None:
        """Make a fresh, empty restore target (a database, a prefix); nothing where the restore makes it."""

    def drop_target(self, target: str) -> None:
        """Remove a restore target made for a restore-test."""

    def scalar(self, query: str, target: str = "", timeout_s: float = 60.0) -> str:
        """A verification query's first value as text (read-only); engines without queries refuse."""
        raise NotImplementedError(f"{self.adapter.display_name} has no verification queries.")


class Monitor(Capability):
    """Cumulative statement statistics, health figures and sessions; never resets the server's counters."""

    noun = "monitoring"

    # Whether `snapshot` returns statements at all, and where they come from (for the pages).
    statement_source: ClassVar[str] = ""
    # The engine keeps no statement statistics: dbdeck records the timings of its own statements.
    own_statements: ClassVar[bool] = False

    @abstractmethod
    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        """Statement counters and health metrics now; incremental sources continue after `position`.

        `known` holds fingerprints whose text the caller already stored: the engine may leave
        their `text` empty and skip reading it (pg_stat_statements' query texts are a file read).
        """

    @abstractmethod
    def sessions(self) -> list[SessionInfo]: ...

    def cancel_session(self, session_id: str) -> None:
        raise NotImplementedError

    def terminate_session(self, session_id: str) -> None:
        raise NotImplementedError

    def profiling(self) -> str:
        """The server's statement profiling setting in words ("" when the engine has no such switch)."""
        return ""

    def set_profiling(self, level: int, slow_ms: int) -> None:
        """Turn the server's statement profiler on or off: an explicit admin action, never done silently."""
        raise NotImplementedError


# Every contract by name, for templates (`connection|has:"Explain"`) and the capability table.
CONTRACTS: dict[str, type[Capability]] = {
    c.__name__: c
    for c in (TableBrowsing, KeyBrowsing, ObjectBrowsing, Console, Explain, IndexTools, Backup, Monitor, Partitioning)
}
