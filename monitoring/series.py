"""What the pages read: a time range from the query string, health series, the slow-query table.

Ranges up to MONITORING_MINUTE_RETENTION_H read minute buckets, longer ones the hourly rollup.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import BigIntegerField, ExpressionWrapper, F, Max, Sum
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
    found = HealthSample.objects.filter(
        connection_id=connection_id, resolution=rng.resolution, ts__gte=low, ts__lte=high
    )
    xs, rows = [], []
    for ts, gauges, counters, seconds in found.order_by("ts").values_list("ts", "gauges", "counters", "seconds"):
        xs.append(ts)
        rows.append(_Row(gauges, counters, seconds))
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


def slow_queries(
    connection_id: int, rng: Range, *, sort: str = "total", search: str = "", limit: int = 50
) -> tuple[list[StatementRow], float]:
    """The statements of the range by total time (or `sort`), with their share and a sparkline."""
    low, high = rng.ts_range
    samples = StatementSample.objects.filter(
        connection_id=connection_id, resolution=rng.resolution, ts__gte=low, ts__lte=high
    )
    grouped = list(
        samples.values("fingerprint_id").annotate(
            calls=Sum("calls"), total_ms=Sum("total_ms"), rows=Sum("rows"), max_ms=Max("max_ms")
        )
    )
    overall = sum(g["total_ms"] or 0 for g in grouped)
    if search:
        matching = set(
            Fingerprint.objects.filter(connection_id=connection_id, text__icontains=search[:200]).values_list(
                "pk", flat=True
            )
        )
        grouped = [g for g in grouped if g["fingerprint_id"] in matching]
    key = SORTS.get(sort, "total_ms")
    if key == "mean_ms":
        grouped.sort(key=lambda g: (g["total_ms"] or 0) / (g["calls"] or 1), reverse=True)
    else:
        grouped.sort(key=lambda g: g[key] or 0, reverse=True)
    grouped = grouped[:limit]
    prints = Fingerprint.objects.in_bulk([g["fingerprint_id"] for g in grouped])
    rows = [
        StatementRow(
            prints[g["fingerprint_id"]],
            int(g["calls"] or 0),
            float(g["total_ms"] or 0),
            int(g["rows"] or 0),
            float(g["max_ms"] or 0),
            share=100 * (g["total_ms"] or 0) / overall if overall else 0.0,
        )
        for g in grouped
    ]
    _sparklines(rows, samples, rng)
    return rows, overall


def _sparklines(rows: list[StatementRow], samples: Any, rng: Range) -> None:
    if not rows:
        return
    low, high = rng.ts_range
    span = max(high - low, 1)
    bins: dict[int, list[float]] = defaultdict(lambda: [0.0] * SPARK_BINS)
    ids = [r.fingerprint.pk for r in rows]
    # Binned by the database in integer arithmetic: one row per statement and bin, not per bucket.
    binned = ExpressionWrapper((F("ts") - low) * SPARK_BINS / span, output_field=BigIntegerField())
    per_bin = (
        samples.filter(fingerprint_id__in=ids)
        .annotate(bin=binned)
        .values("fingerprint_id", "bin")
        .annotate(total=Sum("total_ms"))
        .values_list("fingerprint_id", "bin", "total")
    )
    for fp, index, total in per_bin:
        bins[fp][min(SPARK_BINS - 1, max(0, int(index)))] += total or 0.0
    for r in rows:
        r.spark = bins[r.fingerprint.pk]


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
