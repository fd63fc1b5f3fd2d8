"""The monitoring pages: team overview, one connection's health and slow queries, one statement."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.record import record
from connections.access import connections_for, get_connection_for
from connections.engines.capabilities import Monitor
from monitoring import series
from monitoring.models import OTHER, Collector, Fingerprint, HealthSample, StatementSample

PLACEHOLDER = re.compile(r"\$\d+|\?|%s")


def _ranges(rng: series.Range) -> list[tuple[str, str, bool]]:
    return [(name, "?" + urlencode({"range": name}), rng.name == name) for name in series.RANGES]


def _slow_ms(connection_id: int, start: dt.datetime, end: dt.datetime) -> float:
    found = StatementSample.objects.filter(connection_id=connection_id, bucket__gte=start, bucket__lt=end)
    return float(found.aggregate(t=Sum("total_ms"))["t"] or 0)


def attention(collector: Collector | None, now: dt.datetime) -> list[str]:
    """What needs a person now, in words, for the overview."""
    if collector is None:
        return ["not collected yet"]
    out = []
    if collector.failure:
        out.append(f"not collecting: {collector.failure}")
    gauges = (collector.latest or {}).get("gauges", {})
    lag = max([v for k, v in gauges.items() if k.startswith("replication_lag_s")], default=0)
    if lag > 30:
        out.append(f"replication lag {lag:.0f} s")
    if gauges.get("blocked_sessions", 0) > 0:
        out.append(f"{gauges['blocked_sessions']:.0f} blocked sessions")
    if gauges.get("longest_transaction_s", 0) > 300:
        out.append(f"a transaction open for {gauges['longest_transaction_s'] / 60:.0f} min")
    hour = now - dt.timedelta(hours=1)
    current = _slow_ms(collector.connection_id, hour, now)
    before = _slow_ms(collector.connection_id, hour - dt.timedelta(days=7), now - dt.timedelta(days=7))
    if before and current > 2 * before:
        out.append(f"statement time {current / before:.1f}x the same hour last week")
    sizes = HealthSample.objects.filter(connection_id=collector.connection_id, bucket__gte=now - dt.timedelta(days=1))
    first = sizes.order_by("bucket").values_list("gauges", flat=True).first()
    last = sizes.order_by("-bucket").values_list("gauges", flat=True).first()
    if first and last and first.get("database_bytes") and last.get("database_bytes", 0) > 1.2 * first["database_bytes"]:
        out.append(f"size grew {100 * (last['database_bytes'] / first['database_bytes'] - 1):.0f}% in a day")
    return out


@login_required
def index(request: HttpRequest) -> HttpResponse:
    accesses = [a for a in connections_for(request.user) if a.connection.adapter_cls.has(Monitor)]
    collectors = Collector.objects.defer("previous", "previous_metrics").in_bulk(
        [a.connection.pk for a in accesses], field_name="connection_id"
    )
    now = timezone.now()
    rows = []
    for access in accesses:
        collector = collectors.get(access.connection.pk)
        rows.append({"connection": access.connection, "collector": collector, "attention": attention(collector, now)})
    rows.sort(key=lambda r: (not r["attention"], r["connection"].name))
    return render(request, "monitoring/index.html", {"rows": rows})


@login_required
def connection_page(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk)
    connection = access.connection
    rng = series.parse_range(request.GET)
    sort = request.GET.get("sort", "total")
    search = request.GET.get("q", "")[:200]
    statements, overall = series.slow_queries(pk, rng, sort=sort, search=search)
    collector = Collector.objects.filter(connection=connection).defer("previous", "previous_metrics").first()
    ctx = {
        "connection": connection,
        "access": access,
        "collector": collector,
        "rng": rng,
        "ranges": _ranges(rng),
        "range_query": urlencode(rng.query()),
        "charts": series.health_charts(pk, rng),
        "statements": statements,
        "overall_ms": overall,
        "sort": sort,
        "sorts": list(series.SORTS),
        "search": search,
        "latest": (collector.latest if collector else {}) or {},
        "tables": _tables(collector),
        "is_admin": access.role.allows(Role.ADMIN),
        "has_profiler": _has_profiler(connection),
    }
    template = (
        "monitoring/connection.html#statements"
        if request.htmx and request.GET.get("part") == "statements"
        else "monitoring/connection.html"
    )
    return render(request, template, ctx)


def _has_profiler(connection: object) -> bool:
    """Whether the engine's Monitor has a profiler switch (read from its class, no server call)."""
    from importlib import import_module

    cls = connection.adapter_cls  # type: ignore[attr-defined]
    if not cls.has(Monitor):
        return False
    module, _, name = cls.capabilities[Monitor].rpartition(".")
    return getattr(import_module(module), name).set_profiling is not Monitor.set_profiling


def _tables(collector: Collector | None) -> list[dict[str, object]]:
    gauges = ((collector.latest or {}) if collector else {}).get("gauges", {})
    tables: dict[str, dict[str, object]] = {}
    for key, value in gauges.items():
        match = re.fullmatch(r"(dead_tuples|live_tuples|table_bytes)\{(.*)\}", key)
        if not match:
            continue
        labels = dict(part.split("=", 1) for part in match.group(2).split(",") if "=" in part)
        entry = tables.setdefault(labels.get("table", "?"), {"table": labels.get("table", "?")})
        entry[match.group(1)] = value
        if "last_vacuum" in labels:
            entry["last_vacuum"] = labels["last_vacuum"]
    return sorted(tables.values(), key=lambda t: -float(t.get("dead_tuples", 0) or 0))[:20]


def explain_url(connection_id: int, statement: str, **extra: str) -> str:
    return f"/connections/{connection_id}/explain/?" + urlencode({"statement": statement, **extra})


@login_required
def query_page(request: HttpRequest, pk: int, fp: int) -> HttpResponse:
    access = get_connection_for(request.user, pk)
    fingerprint = get_object_or_404(Fingerprint, pk=fp, connection_id=pk)
    rng = series.parse_range(request.GET)
    history = series.statement_history(fingerprint, rng)
    placeholders = sorted(set(PLACEHOLDER.findall(fingerprint.text)), key=lambda p: (len(p), p))
    ctx = {
        "connection": access.connection,
        "fingerprint": fingerprint,
        "is_other": fingerprint.key == OTHER,
        "rng": rng,
        "ranges": _ranges(rng),
        "history": history,
        "charts": [{k: v for k, v in history.items() if k != "rows"}],
        "placeholders": placeholders,
        "explain_url": explain_url(pk, fingerprint.text),
        "whatif_url": explain_url(pk, fingerprint.text, advice="1"),
    }
    return render(request, "monitoring/query.html", ctx)


def sql_literal(value: str) -> str:
    """A parameter value typed on the query page as an SQL literal: numbers as they are, text quoted."""
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    if value.upper() in ("NULL", "TRUE", "FALSE"):
        return value.upper()
    return "'" + value.replace("\x00", "").replace("'", "''") + "'"


@login_required
def query_explain(request: HttpRequest, pk: int, fp: int) -> HttpResponse:
    """Fill the statement's placeholders with the values typed, then open it in EXPLAIN."""
    get_connection_for(request.user, pk)
    fingerprint = get_object_or_404(Fingerprint, pk=fp, connection_id=pk)
    if fingerprint.key == OTHER:
        raise Http404("Everything else is not one statement.")
    values = {p: request.GET.get(f"p{p}", "") for p in set(PLACEHOLDER.findall(fingerprint.text))}
    positional = iter(request.GET.getlist("p?"))

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("?", "%s"):
            return sql_literal(next(positional, "NULL"))
        return sql_literal(values.get(token, "")) if values.get(token) else token

    statement = PLACEHOLDER.sub(fill, fingerprint.text)
    extra = {"advice": "1"} if request.GET.get("advice") else {}
    return HttpResponseRedirect(explain_url(pk, statement, **extra))


@login_required
@require_POST
def collector_settings(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk, need=Role.ADMIN)
    collector, _ = Collector.objects.get_or_create(connection=access.connection)
    try:
        interval = int(request.POST.get("interval_s", collector.interval_s))
    except ValueError:
        interval = collector.interval_s
    interval = min(max(interval, 15), 3600)
    enabled = request.POST.get("enabled") == "on"
    Collector.objects.filter(pk=collector.pk).update(
        interval_s=interval, enabled=enabled, failures=0, failure="", next_run_at=None
    )
    record(
        "monitoring.collector_settings",
        request=request,
        connection=access.connection,
        interval_s=interval,
        enabled=enabled,
    )
    return HttpResponseRedirect(reverse("monitoring:connection", args=[pk]))
