"""Differences between two cumulative snapshots, with counter resets handled.

Invariants: a difference is never negative. The first snapshot of a connection is only a
baseline (nothing is counted). When the engine says its statistics restarted (`stats_reset`
moved) every counter counts from zero; when one statement's calls went down it was
deallocated and re-added (or reset on its own), so its current counters are its difference.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from connections.engines.results import Metric, QueryStat

# What is kept of a statement between ticks: calls, total_ms, rows, blocks hit, blocks read, max_ms.
Counters = Sequence[float]


@dataclass
class Delta:
    key: str
    text: str
    database: str
    calls: int
    total_ms: float
    rows: int
    blocks_hit: int
    blocks_read: int
    max_ms: float


def counters(stat: QueryStat) -> Counters:
    extra = stat.extra
    return [stat.calls, stat.total_ms, stat.rows or 0, extra.get("shared_hit", 0), extra.get("shared_read", 0)]


# The counters kept between ticks (5,000 statements and more): fingerprints as text, the numbers as
# doubles, compressed. Packing and unpacking cost a few milliseconds where JSON costs tens.
PACK_VERSION = b"dbdeck-counters-1\n"
WIDTH = 5


def pack(current: dict[str, Counters]) -> bytes:
    keys = list(current)
    numbers = array("d", chain.from_iterable(current.values()))  # every entry is WIDTH numbers (counters())
    body = "\n".join(keys).encode() + b"\0" + numbers.tobytes()
    return PACK_VERSION + zlib.compress(body, 1)


def unpack(packed: bytes | memoryview | None) -> dict[str, Counters]:
    """The counters `pack` wrote; anything else (empty, another version) is no counters: a baseline."""
    raw = bytes(packed or b"")
    if not raw.startswith(PACK_VERSION):
        return {}
    body = zlib.decompress(raw[len(PACK_VERSION) :])
    names, _, blob = body.partition(b"\0")
    keys = names.decode().split("\n") if names else []
    numbers = array("d")
    numbers.frombytes(blob)
    if len(numbers) != WIDTH * len(keys):
        return {}
    values = iter(numbers.tolist())
    return dict(zip(keys, zip(*([values] * WIDTH), strict=True), strict=True))


def statement_deltas(
    previous: dict[str, Counters], stats: Iterable[QueryStat], *, baseline: bool, reset: bool
) -> tuple[list[Delta], dict[str, Counters], bool]:
    """(differences with calls > 0, the counters to keep, whether any counter went down)."""
    current: dict[str, Counters] = {}
    out: list[Delta] = []
    went_down = False
    for stat in stats:
        now = counters(stat)
        current[stat.fingerprint] = now
        if baseline:
            continue
        before = previous.get(stat.fingerprint)
        if before is not None and not reset and before[0] == now[0]:
            continue  # not called since the last snapshot: most statements on most ticks
        if reset or before is None:
            diff = now
        elif now[0] < before[0] or now[1] < before[1] - 0.001:
            went_down = True
            diff = now
        else:
            diff = [max(0.0, a - b) for a, b in zip(now, before, strict=False)]
        if diff[0] <= 0:
            continue
        out.append(
            Delta(
                key=stat.fingerprint,
                text=stat.text,
                database=stat.database,
                calls=int(diff[0]),
                total_ms=diff[1],
                rows=int(diff[2]),
                blocks_hit=int(diff[3]),
                blocks_read=int(diff[4]),
                max_ms=float(stat.extra.get("max_ms", 0)),
            )
        )
    return out, current, went_down


def increment_deltas(stats: Iterable[QueryStat]) -> list[Delta]:
    """Incremental sources (SLOWLOG, system.profile) are differences already."""
    return [
        Delta(
            key=s.fingerprint,
            text=s.text,
            database=s.database,
            calls=s.calls,
            total_ms=s.total_ms,
            rows=int(s.rows or 0),
            blocks_hit=0,
            blocks_read=0,
            max_ms=float(s.extra.get("max_ms", 0)),
        )
        for s in stats
        if s.calls > 0
    ]


def metric_key(metric: Metric) -> str:
    if not metric.labels:
        return metric.name
    return metric.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(metric.labels.items())) + "}"


def metric_deltas(
    previous: dict[str, float], metrics: Iterable[Metric], *, baseline: bool
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """(gauges, counter differences, the counters to keep); a counter that went down restarted."""
    gauges: dict[str, float] = {}
    diffs: dict[str, float] = {}
    keep: dict[str, float] = {}
    for metric in metrics:
        key = metric_key(metric)
        if not metric.counter:
            gauges[key] = metric.value
            continue
        keep[key] = metric.value
        before = previous.get(key)
        if baseline or before is None:
            continue
        diffs[key] = metric.value - before if metric.value >= before else metric.value
    return gauges, diffs, keep


def top_with_rest(deltas: list[Delta], limit: int) -> tuple[list[Delta], Delta | None]:
    """The `limit` statements with the most time, and everything else summed into one row."""
    ranked = sorted(deltas, key=lambda d: (d.total_ms, d.calls), reverse=True)
    top, rest = ranked[:limit], ranked[limit:]
    if not rest:
        return top, None
    other = Delta(
        key="",
        text="",
        database="",
        calls=sum(d.calls for d in rest),
        total_ms=sum(d.total_ms for d in rest),
        rows=sum(d.rows for d in rest),
        blocks_hit=sum(d.blocks_hit for d in rest),
        blocks_read=sum(d.blocks_read for d in rest),
        max_ms=max(d.max_ms for d in rest),
    )
    return top, other
