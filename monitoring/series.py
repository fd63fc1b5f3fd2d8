"""What the pages read: a time range from the query string, health series, the slow-query table.

Ranges up to MONITORING_MINUTE_RETENTION_H read minute buckets, longer ones the hourly rollup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from monitoring.models import OTHER, Fingerprint, HealthSample, Resolution, StatementSample

RANGES = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
SORTS = {"total": "total_ms", "mean": "mean_ms", "calls": "calls", "rows": "rows", "max": "max_ms"}
SPARK_BINS = 24


@dataclass
class Range:
    name: str
    start: dt.datetime
    end: dt.datetime
    error: str = ""

    @property
    def resolution(self) -> int:
        minute_span = dt.timedelta(hours=settings.MONITORING_MINUTE_RETENTION_H)
        recent = self.start >= timezone.now() - minute_span
        return Resolution.MINUTE if recent and self.end - self.start <= minute_span else Resolution.HOUR

    @property
    def ts_range(self) -> tuple[int, int]:
        return int(self.start.timestamp()), int(self.end.timestamp())

    def query(self) -> dict[str, str]:
        if self.name == "custom":
            return {
                "range": "custom",
                "from": self.start.strftime("%Y-%m-%dT%H:%M"),
                "to": self.end.strftime("%Y-%m-%dT%H:%M"),
            }
        return {"range": self.name}


def parse_range(params: Any) -> Range:
    now = timezone.now()
    name = params.get("range", "24h")
    if name == "custom":
        try:
            start = dt.datetime.fromisoformat(params.get("from", ""))
            end = dt.datetime.fromisoformat(params.get("to", "")) if params.get("to") else now
        except ValueError:
            return Range(
                "24h", now - RANGES["24h"], now, "Custom ranges need from and to as YYYY-MM-DDTHH:MM; showing 24 h."
            )
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        end = end if end.tzinfo else end.replace(tzinfo=dt.UTC)
        if end <= start:
            return Range("24h", now - RANGES["24h"], now, "The range ends before it starts; showing 24 h.")
        return Range("custom", start, min(end, now))
    if name not in RANGES:
        name = "24h"
    return Range(name, now - RANGES[name], now)


CHARTS = (
    ("throughput", "Throughput (statements / s)", ("statement_calls/s", "commits/s")),
    ("latency", "Mean statement time (ms)", ("statement_ms/statement_calls",)),
    ("cache", "Cache hit (%)", ("cache_hit_pct",)),
    ("sessions", "Sessions", ("sessions", "blocked_sessions")),
    ("lag", "Replication lag (s)", ("replication_lag_s*",)),
    ("size", "Database size (MB)", ("database_bytes/MB",)),
)


def _json(value: Any) -> dict[str, float]:
    return value if isinstance(value, dict) else json.loads(value or "{}")  # PostgreSQL's driver decodes jsonb


@dataclass
class _Row:
    gauges: dict[str, float]
    counters: dict[str, float]
    seconds: float


def _value(row: _Row, spec: str) -> float | None:
    g, c = row.gauges, row.counters
    if spec.endswith("/s"):
        name = spec[:-2]
        return c[name] / row.seconds if name in c and row.seconds else None
    if spec.endswith("/MB"):
        name = spec[:-3]
        return g[name] / 1e6 if name in g else None
    if "/" in spec:
        top, bottom = spec.split("/")
        return c[top] / c[bottom] if c.get(bottom) else None
    if spec.endswith("*"):
        values = [v for k, v in g.items() if k.startswith(spec[:-1])]
        return max(values) if values else None
    return g.get(spec)


def health_charts(connection_id: int, rng: Range) -> list[dict[str, Any]]:
    """Per chart: its title, the x axis (epoch seconds) and the y series, dropped when it has no data."""
    low, high = rng.ts_range
    table = connection.ops.quote_name(HealthSample._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT ts, gauges, counters, seconds FROM {table}"
            " WHERE connection_id = %s AND resolution = %s AND ts >= %s AND ts <= %s ORDER BY ts",
            [connection_id, rng.resolution, low, high],
        )
        raw = cur.fetchall()
    xs = [r[0] for r in raw]
    rows = [_Row(_json(g), _json(c), sec) for _, g, c, sec in raw]
    charts = []
    for key, title, specs in CHARTS:
        series = []
        for spec in specs:
            values = [_value(r, spec) for r in rows]
            if any(v is not None for v in values):
                series.append({"label": spec.split("/")[0].rstrip("*").replace("_", " "), "values": values})
        if series:
            charts.append({"key": key, "title": title, "x": xs, "series": series, "last": _last(series)})
    return charts


def _last(series: list[dict[str, Any]]) -> list[tuple[str, float | None]]:
    out = []
    for s in series:
        known = [v for v in s["values"] if v is not None]
        out.append((s["label"], known[-1] if known else None))
    return out


@dataclass
class StatementRow:
    fingerprint: Fingerprint
    calls: int
    total_ms: float
    rows: int
    max_ms: float
    share: float = 0.0
    spark: list[float] = field(default_factory=list)

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    @property
    def spark_points(self) -> str:
        """An SVG polyline's points (100 x 20 box) for the sparkline."""
        if not self.spark:
            return ""
        top = max(self.spark) or 1.0
        step = 100 / max(len(self.spark) - 1, 1)
        return " ".join(f"{i * step:.1f},{20 - 18 * v / top:.1f}" for i, v in enumerate(self.spark))


def _binned(connection_id: int, resolution: int, low: int, high: int, origin: int, span: int) -> list[tuple[Any, ...]]:
    """Per statement and sparkline bin: calls, time, rows, longest; plain SQL, the hottest read of the page."""
    table = connection.ops.quote_name(StatementSample._meta.db_table)
    sql = (
        f"SELECT fingerprint_id, (ts - %s) * {SPARK_BINS} / %s AS bin, SUM(calls), SUM(total_ms), SUM(rows),"
        f" MAX(max_ms) FROM {table} WHERE connection_id = %s AND resolution = %s AND ts >= %s AND ts <= %s"
        " GROUP BY fingerprint_id, bin"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [origin, span, connection_id, resolution, low, high])
        return cur.fetchall()


def tiers(rng: Range, rolled_until: dt.datetime | None, days_until: dt.datetime | None) -> list[tuple[int, int, int]]:
    """(resolution, first ts, last ts) to read so each moment of the range is counted once, coarsest first.

    Whole days before `days_until` from the daily rows, hours before `rolled_until` from the hourly
    ones, the rest (the current hour) from the minutes. Short ranges read only their own resolution.
    """
    low, high = rng.ts_range
    hour_split = int(rolled_until.timestamp()) if rolled_until else low
    if high - low <= 2 * 3600 or hour_split <= low:
        return [(rng.resolution, low, high)]
    hour_split = min(hour_split, high + 1)
    out: list[tuple[int, int, int]] = []
    first_day = -(-low // Resolution.DAY) * Resolution.DAY  # the first midnight at or after low
    day_split = min(int(days_until.timestamp()) if days_until else 0, hour_split)
    if high - low >= 3 * Resolution.DAY and day_split > first_day:
        if first_day > low:
            out.append((Resolution.HOUR, low, first_day - 1))
        out.append((Resolution.DAY, first_day, day_split - 1))
        if hour_split > day_split:
            out.append((Resolution.HOUR, day_split, hour_split - 1))
    else:
        out.append((Resolution.HOUR, low, hour_split - 1))
    if hour_split <= high:
        out.append((Resolution.MINUTE, hour_split, high))
    return out


def slow_queries(
    connection_id: int,
    rng: Range,
    *,
    sort: str = "total",
    search: str = "",
    limit: int = 50,
    rolled_until: dt.datetime | None = None,
    days_until: dt.datetime | None = None,
) -> tuple[list[StatementRow], float]:
    """The statements of the range by total time (or `sort`), with their share and a sparkline.

    Hours already rolled up are read from the hourly rows and the rest (the current hour, or all
    of a short range) from the minutes, so a day costs 24 rows per statement, not 1,440, and the
    newest minutes are never missing. Each read is grouped by statement and sparkline bin
    (integer arithmetic on the bucket's epoch seconds): totals and sparklines from one scan.
    """
    low, high = rng.ts_range
    span = max(high - low, 1)
    per_bin: list[tuple[Any, ...]] = []
    for resolution, start, end in tiers(rng, rolled_until, days_until):
        per_bin += _binned(connection_id, resolution, start, end, low, span)
    totals: dict[int, list[float]] = {}
    sparks: dict[int, list[float]] = defaultdict(lambda: [0.0] * SPARK_BINS)
    for fp, index, calls, total, nrows, longest in per_bin:
        entry = totals.setdefault(fp, [0, 0.0, 0, 0.0])
        entry[0] += calls or 0
        entry[1] += total or 0.0
        entry[2] += nrows or 0
        entry[3] = max(entry[3], longest or 0.0)
        sparks[fp][min(SPARK_BINS - 1, max(0, int(index)))] += total or 0.0
    overall = sum(t[1] for t in totals.values())
    ids = list(totals)
    if search:
        found = Fingerprint.objects.filter(connection_id=connection_id, text__icontains=search[:200])
        matching = set(found.values_list("pk", flat=True))
        ids = [i for i in ids if i in matching]
    key = {"total_ms": 1, "calls": 0, "rows": 2, "max_ms": 3}.get(SORTS.get(sort, "total_ms"))
    if key is None:  # mean
        ids.sort(key=lambda i: totals[i][1] / (totals[i][0] or 1), reverse=True)
    else:
        ids.sort(key=lambda i: totals[i][key], reverse=True)
    ids = ids[:limit]
    prints = Fingerprint.objects.in_bulk(ids)
    rows = [
        StatementRow(
            prints[i],
            int(totals[i][0]),
            float(totals[i][1]),
            int(totals[i][2]),
            float(totals[i][3]),
            share=100 * totals[i][1] / overall if overall else 0.0,
            spark=sparks[i],
        )
        for i in ids
        if i in prints
    ]
    return rows, overall


def statement_history(fingerprint: Fingerprint, rng: Range) -> dict[str, Any]:
    low, high = rng.ts_range
    found = StatementSample.objects.filter(
        fingerprint=fingerprint, resolution=rng.resolution, ts__gte=low, ts__lte=high
    )
    raw = list(found.order_by("ts").values_list("ts", "calls", "total_ms", "rows"))
    rows = [(dt.datetime.fromtimestamp(ts, tz=dt.UTC), c, t, r) for ts, c, t, r in raw]
    return {
        "key": "statement",
        "title": "Calls and mean time (ms)",
        "x": [ts for ts, *_ in raw],
        "series": [
            {"label": "calls", "values": [c for _, c, _, _ in rows]},
            {"label": "mean ms", "values": [round(t / c, 3) if c else None for _, c, t, _ in rows]},
        ],
        "rows": rows,
    }


def is_other(fingerprint: Fingerprint) -> bool:
    return fingerprint.key == OTHER
