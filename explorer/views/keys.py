"""Redis: a key tree from bounded SCAN, typed values paged by cursor, key edits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from audit.record import record
from connections.access import Access
from connections.engines import EngineError
from explorer import numbers, params
from explorer.views.common import engine, explorer_view, require_confirmation, require_style

REDIS_TYPES = ["", "string", "hash", "list", "set", "zset", "stream", "ReJSON-RL"]
MAX_VALUE_BYTES = 10_000_000


def _db(request: HttpRequest) -> int:
    raw = request.GET.get("ns") or request.POST.get("ns") or "0"
    return numbers.parse_int(raw, name="Redis database (a small number such as 0)", maximum=10_000)


def key_tree(request: HttpRequest, access: Access, adapter: Any) -> HttpResponse:
    connection = access.connection
    db = _db(request)
    separator = request.GET.get("sep", ":")[:8] or ":"
    prefix = request.GET.get("prefix", "")
    listing = adapter.scan_keys(
        db,
        prefix=prefix,
        pattern=request.GET.get("pattern", "")[:1000],
        type_filter=request.GET.get("type", "") if request.GET.get("type", "") in REDIS_TYPES else "",
        cursor=request.GET.get("scan") or None,
        separator=separator,
    )
    crumbs = params.crumbs(prefix, separator, lambda acc: params.without_paging(request.GET, prefix=acc, scan=None))
    ctx = {
        "connection": connection,
        "style": "keys",
        "ns": str(db),
        "namespaces": adapter.namespaces(),
        "listing": listing,
        "prefix": prefix,
        "crumbs": crumbs,
        "types": REDIS_TYPES,
        "query": request.GET,
        "more_url": params.state(request.GET, scan=listing.next_cursor) if listing.next_cursor else "",
    }
    return render(request, "explorer/keys.html", ctx)


@login_required
@require_GET
@explorer_view()
def key_detail(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    db = _db(request)
    with engine(access) as adapter:
        require_style(adapter, "keys")
        key = adapter.unescape_key(request.GET.get("key", ""))
        value = adapter.key_value(db, key, cursor=request.GET.get("cursor") or None)
    if value is None:
        return render(
            request,
            "explorer/error.html",
            {
                "connection": connection,
                "message": "That key does not exist (it may have expired).",
                "back": params.link("explorer:browse", connection.pk, ns=db),
            },
            status=404,
        )
    ctx = {
        "connection": connection,
        "ns": str(db),
        "value": value,
        "key_text": request.GET.get("key", ""),
        "can_write": access.can_write,
        "more_url": params.state(request.GET, cursor=value.next_cursor) if value.next_cursor else "",
        "tree_url": params.link("explorer:browse", connection.pk, ns=db),
    }
    return render(request, "explorer/key.html", ctx)


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def key_edit(request: HttpRequest, access: Access) -> HttpResponse:
    """One form posts here with `action`; every change is audited with before and after."""
    connection = access.connection
    db = _db(request)
    require_confirmation(request, connection)
    action = request.POST.get("action", "")
    key_text = request.POST.get("key", "")
    form = request.POST
    for name in ("value", "field", "member"):
        if len(form.get(name, "")) > MAX_VALUE_BYTES:
            raise EngineError("Values over 10 MB are not edited here.", kind="config")
    with engine(access) as adapter:
        require_style(adapter, "keys")
        key = adapter.unescape_key(key_text)
        ttl = numbers.parse_int_or_none(form.get("ttl"), name="time to live (seconds)")
        detail: dict[str, Any]
        if action == "set":
            detail = adapter.set_string(db, key, form.get("value", ""), ttl=ttl)
        elif action == "rename":
            new_key = adapter.unescape_key(form.get("new_key", ""))
            detail = adapter.rename_key(db, key, new_key)
            key_text = adapter.escape_key(new_key)
        elif action == "expire":
            detail = adapter.expire_key(db, key, ttl)
        elif action == "delete":
            detail = adapter.delete_key(db, key)
            record("data.delete", request=request, connection=connection, target=key_text, db=db, before=detail)
            messages.success(request, "Deleted.")
            return redirect(params.link("explorer:browse", connection.pk, ns=db))
        else:
            detail = adapter.edit_member(
                db,
                key,
                action,
                field=form.get("field", ""),
                value=form.get("value", ""),
                score=numbers.parse_float_or_none(form.get("score"), name="score"),
                index=numbers.parse_int_or_none(form.get("index"), name="list index"),
            )
    record(f"data.redis.{action[:40]}", request=request, connection=connection, target=key_text, db=db, **detail)
    messages.success(request, "Saved.")
    return redirect(params.link("explorer:key", connection.pk, ns=db, key=key_text))
