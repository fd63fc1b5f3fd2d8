"""Monitoring: slow statements over a range and the health series, as the connection's monitoring page reads them."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, QueryDict
from ninja import Field, Query, Router, Schema

from accounts.models import Role
from api import access
from api.responses import ID, answers, needs
from api.schemas import Out
from monitoring import series

router = Router(tags=["monitoring"])


class RangeQuery(Schema):
    range: Literal["1h", "24h", "7d", "30d", "custom"] = "24h"
    from_: str = Field("", alias="from", description="custom: start, YYYY-MM-DDTHH:MM (UTC unless an offset is given).")
    to: str = Field("", description="custom: end (default now).")


class SlowQuery(RangeQuery):
    sort: Literal["total", "mean", "calls", "rows", "max"] = "total"
    q: str = Field("", max_length=200, description="Only statements containing this text.")
    limit: int = Field(50, ge=1, le=200)


class MonitorRangeOut(Out):
    name: str
    start: str
    end: str
    notice: str


class SlowStatementOut(Out):
    fingerprint: int
    text: str
    database: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    max_ms: float
    share: float


class SlowOut(Out):
    range: MonitorRangeOut
    overall_ms: float
    items: list[SlowStatementOut] = Field(description="The top statements by the sort, not a paged list.")


class HealthSeriesOut(Out):
    label: str
    values: list[float | None]


class HealthChartOut(Out):
    key: str
    title: str
    x: list[int] = Field(description="Bucket starts, epoch seconds.")
    series: list[HealthSeriesOut]


class HealthOut(Out):
    range: MonitorRangeOut
    charts: list[HealthChartOut]


def _range(request: HttpRequest) -> series.Range:
    return series.parse_range(request.GET if isinstance(request.GET, QueryDict) else {})


def _range_out(rng: series.Range) -> dict[str, str]:
    return {"name": rng.name, "start": rng.start.isoformat(), "end": rng.end.isoformat(), "notice": rng.error}


@router.get("/{id:pk}/monitoring/slow", response=answers(SlowOut), openapi_extra=needs(Role.VIEWER))
def slow(request: HttpRequest, pk: ID, query: Query[SlowQuery]) -> dict[str, Any]:
    """The statements that took the most time in the range (from the collector's samples, never reset)."""
    access.connection_for(request, pk)
    rng = _range(request)
    rows, overall = series.slow_queries(pk, rng, sort=query.sort, search=query.q, limit=query.limit)
    items = [
        {
            "fingerprint": r.fingerprint.pk,
            "text": r.fingerprint.text,
            "database": r.fingerprint.database,
            "calls": r.calls,
            "total_ms": r.total_ms,
            "mean_ms": r.mean_ms,
            "rows": r.rows,
            "max_ms": r.max_ms,
            "share": r.share,
        }
        for r in rows
    ]
    return {"range": _range_out(rng), "overall_ms": overall, "items": items}


@router.get("/{id:pk}/monitoring/series", response=answers(HealthOut), openapi_extra=needs(Role.VIEWER))
def health(request: HttpRequest, pk: ID, query: Query[RangeQuery]) -> dict[str, Any]:
    """The health charts' numbers: throughput, latency, cache hit, sessions, replication lag, size."""
    access.connection_for(request, pk)
    rng = _range(request)
    charts = [
        {
            "key": c["key"],
            "title": c["title"],
            "x": [int(x) for x in c["x"]],
            "series": [{"label": s["label"], "values": s["values"]} for s in c["series"]],
        }
        for c in series.health_charts(pk, rng)
    ]
    return {"range": _range_out(rng), "charts": charts}
