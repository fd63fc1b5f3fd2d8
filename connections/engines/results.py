"""What the console, EXPLAIN, index, backup and monitoring capabilities return: plain dataclasses.

The engines fill these from their own formats (a PostgreSQL JSON plan, `$indexStats`,
SLOWLOG entries, ...), so pages, tasks and the metadata database see one shape per
feature whatever the engine. Times are milliseconds, sizes bytes, counts as the
engine reports them (None where it does not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# ---- Console -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultChunk:
    """One batch of one statement's result, in the order the statements ran.

    A statement yields chunks of rows (the first as soon as the server sends it) and
    ends with a chunk that has `done` set; a write ends with its `rowcount`, a failure
    with `error` (and `error_position`, a character offset into the statement, when known).
    """

    statement: int  # index of the statement in the run
    columns: tuple[str, ...] = ()
    rows: list[list[Any]] = field(default_factory=list)  # values may be browse.Cut
    done: bool = False
    rowcount: int | None = None
    error: str = ""
    error_position: int | None = None
    notice: str = ""
    elapsed_ms: float | None = None


# ---- Explain -------------------------------------------------------------------------------


@dataclass
class PlanNode:
    """One operation of a plan, normalized across engines; `children` run under it."""

    operation: str  # "Seq Scan", "IXSCAN", "SCAN t USING INDEX i", ...
    relation: str = ""
    index: str = ""
    estimated_rows: float | None = None
    actual_rows: float | None = None  # per loop, as the engines report it
    loops: int | None = None
    inclusive_ms: float | None = None
    exclusive_ms: float | None = None
    buffers: dict[str, int] = field(default_factory=dict)  # "shared hit", "shared read", ...
    detail: dict[str, Any] = field(default_factory=dict)  # filters, join conditions, the engine's own keys
    children: list[PlanNode] = field(default_factory=list)

    @property
    def misestimate(self) -> float | None:
        """How many times the estimate was off (>= 1), when the plan was analyzed."""
        if self.estimated_rows is None or self.actual_rows is None:
            return None
        low, high = sorted((max(self.estimated_rows, 1.0), max(self.actual_rows, 1.0)))
        return high / low


@dataclass
class Plan:
    root: PlanNode
    analyzed: bool
    raw: str  # the engine's own plan text or JSON, shown one click away
    total_ms: float | None = None
    # ANALYZE of a writing statement ran inside a transaction that was rolled back.
    rolled_back: bool = False
    notices: list[str] = field(default_factory=list)


# ---- IndexTools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexUsage:
    """An index with its definition, size and use since the engine's statistics were reset."""

    namespace: str
    table: str
    name: str
    columns: tuple[str, ...]
    definition: str = ""
    unique: bool = False
    primary: bool = False
    backs_constraint: bool = False
    valid: bool = True
    size_bytes: int | None = None
    scans: int | None = None
    stats_since: dt.datetime | None = None


@dataclass(frozen=True)
class IndexFinding:
    """Something to fix: an unused, duplicate, prefix or invalid index, or a table scanned without one."""

    kind: str  # "unused" | "duplicate" | "prefix" | "invalid" | "missing"
    namespace: str
    table: str
    index: str = ""  # the index concerned ("" for "missing")
    detail: str = ""  # in words, e.g. "a prefix of orders_status_created"
    size_bytes: int | None = None  # space the fix frees
    fix: str = ""  # the statement that would fix it


@dataclass(frozen=True)
class IndexSuggestion:
    """A candidate index for one statement, with the planner's cost before and after where measured."""

    namespace: str
    table: str
    columns: tuple[str, ...]
    statement: str  # CREATE INDEX ...
    method: str  # "hypothetical" (HypoPG) or "heuristic"
    cost_before: float | None = None
    cost_after: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class Progress:
    """How far a long job has come (an index build, a dump); `total` None when unknown."""

    phase: str
    done: int = 0
    total: int | None = None


# ---- Backup --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupScope:
    """What a backup covers: everything, or chosen namespaces, objects (`ns.obj`) and key or prefix patterns."""

    namespaces: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (self.namespaces or self.objects or self.patterns)


@dataclass(frozen=True)
class ObjectCount:
    """Per table, collection, key pattern or prefix: what it held when dumped (checked after a restore)."""

    name: str
    kind: str
    count: int
    checksum: str = ""


@dataclass(frozen=True)
class ManifestPart:
    name: str  # inside the artifact, e.g. "dump.pgcustom" or "shop/orders.bson"
    size: int  # bytes as the engine wrote them
    sha256: str  # of those bytes
    stored_name: str = ""  # the file or object at the destination ("dump.pgcustom.zst.enc")
    stored_size: int = 0
    stored_sha256: str = ""  # of the stored bytes: checked before anything is decrypted


@dataclass
class BackupManifest:
    """What the engine knows of a dump; the pipeline adds compression, encryption and the artifact's hashes."""

    engine: str
    server_version: str
    method: str  # "pg_dump", "mariadb-dump", "sqlite-backup-api", "mongodump-layout", "rdb", "dump-scan", "copy"
    tool: str = ""
    tool_version: str = ""
    scope: BackupScope = field(default_factory=BackupScope)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    parts: list[ManifestPart] = field(default_factory=list)
    objects: list[ObjectCount] = field(default_factory=list)
    # What the engine wants a reader to know, e.g. {"fallback": "SYNC refused: logical DUMP stream"}.
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class RestoreReport:
    """A restore that stopped at its first error, or finished; the restore-test compares `objects`."""

    ok: bool
    target: str
    elapsed_ms: float
    objects: list[ObjectCount] = field(default_factory=list)
    error: str = ""


# ---- Monitor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryStat:
    """Cumulative counters of one normalized statement since the engine's statistics were reset.

    The collector stores differences between snapshots; it never resets the engine's counters.
    """

    fingerprint: str  # the engine's query id or a hash of the normalized text
    text: str  # normalized: parameters out
    calls: int
    total_ms: float
    rows: int | None = None
    database: str = ""
    user: str = ""
    extra: dict[str, float] = field(default_factory=dict)  # blocks hit/read, temp, WAL, ...


@dataclass(frozen=True)
class Metric:
    """One health figure: a counter (cumulative, diffed by the collector) or a gauge."""

    name: str  # "commits", "cache_hit_ratio", "replication_lag_s", ...
    value: float
    counter: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # e.g. {"standby": "replica-1"}


@dataclass(frozen=True)
class SessionInfo:
    """One server session, for the sessions page and the blocking tree."""

    id: str
    user: str = ""
    database: str = ""
    state: str = ""
    statement: str = ""
    started: dt.datetime | None = None
    waiting_on: str = ""
    blocked_by: tuple[str, ...] = ()
    # When the open transaction began (age of "idle in transaction"), where the client is, what it is.
    xact_started: dt.datetime | None = None
    client: str = ""
    application: str = ""


@dataclass
class Snapshot:
    """What one collector tick reads; incremental sources (SLOWLOG, system.profile) resume from `position`."""

    taken_at: dt.datetime
    statements: list[QueryStat] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    stats_reset: dt.datetime | None = None  # counters restarted then: the collector starts over
    position: str | None = None
    # Statements from incremental sources (SLOWLOG, system.profile) since `position`: already
    # differences, added as they are (the cumulative ones in `statements` are diffed).
    increments: list[QueryStat] = field(default_factory=list)
    # What the engine could not give and how to get it ("performance_schema is off: ...").
    notices: list[str] = field(default_factory=list)
    # The server's own queries dbdeck ran for this snapshot (the cost it puts on the monitored server).
    queries: int = 0


# ---- Partitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    """One partition (or sub-partition) of a table, as the engine describes its bounds."""

    name: str
    namespace: str = ""
    bounds: str = ""  # "FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')", "LESS THAN (2025)", ...
    estimated_rows: int | None = None
    size_bytes: int | None = None
    partitioned: bool = False  # itself split further
    parent: str = ""  # for sub-partitions: the partition it belongs to


@dataclass
class PartitionInfo:
    """How a table or collection is split: its key, its parent when it is a partition, its partitions."""

    key: str = ""  # "RANGE (created)", "HASH (id)", MongoDB's shard key
    parent: tuple[str, str] | None = None  # (namespace, table) when this table is a partition itself
    partitions: list[Partition] = field(default_factory=list)
    notice: str = ""
