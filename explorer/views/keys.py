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
from connections.engines.browse import KeyBrowsing
from explorer import params
from explorer.forms import REDIS_TYPES, KeyEditForm, KeyForm, KeyTreeForm
from explorer.views.common import engine, explorer_view, require


def key_tree(request: HttpRequest, access: Access, keys: KeyBrowsing) -> HttpResponse:
    connection = access.connection
    scan = KeyTreeForm(request.GET).valid().cleaned_data
    db, prefix = scan["ns"], scan["prefix"]
    listing = keys.scan_keys(
        db,
        prefix=prefix,
        pattern=scan["pattern"],
        type_filter=scan["type"],
        cursor=scan["scan"],
        separator=scan["sep"],
    )
    crumbs = params.crumbs(prefix, scan["sep"], lambda acc: params.without_paging(request.GET, prefix=acc, scan=None))
    ctx = {
        "connection": connection,
        "style": "keys",
        "ns": str(db),
        "namespaces": keys.namespaces(),
        "listing": listing,
        "prefix": prefix,
        "crumbs": crumbs,
        "types": REDIS_TYPES,
        "scan": scan,
        "more_url": params.state(request.GET, scan=listing.next_cursor) if listing.next_cursor else "",
    }
    return render(request, "explorer/keys.html", ctx)


@login_required
@require_GET
@explorer_view()
def key_detail(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = KeyForm(request.GET).valid().cleaned_data
    db, key_text = form["ns"], form["key"]
    with engine(access) as adapter:
        keys = require(adapter, KeyBrowsing)
        key = keys.unescape_key(key_text)
        value = keys.key_value(db, key, cursor=form["cursor"])
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
        "key_text": key_text,
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
    form = KeyEditForm(request.POST, connection=connection).valid().cleaned_data
    db, action, key_text, ttl = form["ns"], form["action"], form["key"], form["ttl"]
    with engine(access) as adapter:
        keys = require(adapter, KeyBrowsing)
        key = keys.unescape_key(key_text)
        detail: dict[str, Any]
        if action == "set":
            detail = keys.set_string(db, key, form["value"], ttl=ttl)
        elif action == "rename":
            new_key = keys.unescape_key(form["new_key"])
            detail = keys.rename_key(db, key, new_key)
            key_text = keys.escape_key(new_key)
        elif action == "expire":
            detail = keys.expire_key(db, key, ttl)
        elif action == "delete":
            detail = keys.delete_key(db, key)
            record("data.delete", request=request, connection=connection, target=key_text, db=db, before=detail)
            messages.success(request, "Deleted.")
            return redirect(params.link("explorer:browse", connection.pk, ns=db))
        else:
            detail = keys.edit_member(
                db, key, action, field=form["field"], value=form["value"], score=form["score"], index=form["index"]
            )
    record(f"data.redis.{action}", request=request, connection=connection, target=key_text, db=db, **detail)
    messages.success(request, "Saved.")
    return redirect(params.link("explorer:key", connection.pk, ns=db, key=key_text))
