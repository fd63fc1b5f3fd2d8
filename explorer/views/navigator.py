"""The navigator (namespaces, objects) and the record grid for SQL tables and collections."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from audit.record import record
from config.links import reverse_once
from connections.access import Access
from connections.engines import cursor
from connections.engines.browse import FILTER_OPS, KeyBrowsing, ObjectBrowsing, PageRequest, TableBrowsing, TableInfo
from connections.templatetags.engines import has
from explorer import catalog, params
from explorer.forms import PAGE_SIZES, GridForm
from explorer.views import keys, objects
from explorer.views.common import engine, explorer_view, require


def _sort_urls(query: Any, info: TableInfo, preq: PageRequest) -> dict[str, str]:
    """Each column's header link: sort by it (again: the other way), from the first page.

    One QueryDict copy serves every column; only sort and desc change between them.
    """
    base = params.changed(query, after=None, before=None)
    urls = {}
    for c in info.columns:
        params._put(base, {"sort": c.name, "desc": "1" if preq.sort == c.name and not preq.descending else None})
        urls[c.name] = "?" + base.urlencode()
    return urls


def _grid_context(request: HttpRequest, access: Access, browsing: TableBrowsing, grid: GridForm) -> dict[str, Any]:
    connection = access.connection
    ns, obj = grid.cleaned_data["ns"] or "", grid.cleaned_data["obj"]
    info: TableInfo = catalog.describe(connection, browsing, ns, obj)
    preq: PageRequest = grid.page_request()
    page = catalog.page(connection, browsing, ns, obj, preq)
    shown = [c for c in info.columns if not preq.columns or c.name in preq.columns]
    query = request.GET
    unpaged = params.without_paging(query)
    table = params.table_query(ns, obj)
    cls = connection.adapter_cls

    def to_table(view: str) -> str:
        return reverse_once(view, connection.pk) + table

    return {
        "info": info,
        "page": page,
        "preq": preq,
        "rows": [
            {"cells": row, "key": token} for row, token in zip(page.rows, cursor.encode_keys(page.keys), strict=False)
        ],
        # Ends in "key=": each row appends its token, which is URL-safe base64 by construction.
        "record_base": reverse_once("explorer:record", connection.pk) + table + "&key=",
        "reset_url": reverse_once("explorer:browse", connection.pk) + table,
        "indexes_url": reverse_once("explorer:indexes", connection.pk) + table if has(cls, "IndexTools") else "",
        "partitions_url": reverse_once("explorer:partitions", connection.pk) + table
        if has(cls, "Partitioning")
        else "",
        "all_columns": info.columns,
        "shown_columns": [c.name for c in shown],
        "filters": list(preq.filters) + [None],
        "ops": FILTER_OPS,
        "page_sizes": PAGE_SIZES,
        "next_url": params.state(query, after=page.next_cursor, before=None) if page.next_cursor else "",
        "prev_url": params.state(query, before=page.prev_cursor, after=None) if page.prev_cursor else "",
        "first_url": unpaged if preq.cursor else "",
        "sort_urls": _sort_urls(query, info, preq),
        "count_url": reverse_once("explorer:count", connection.pk) + unpaged,
        "export_url": reverse_once("explorer:export", connection.pk) + unpaged,
        "new_url": reverse_once("explorer:record_new", connection.pk) + unpaged,
        "can_write": access.can_write and info.editable,
    }


@login_required
@require_GET
@explorer_view()
def browse(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    with engine(access) as adapter:
        if key_store := adapter.get(KeyBrowsing):
            return keys.key_tree(request, access, key_store)
        if object_store := adapter.get(ObjectBrowsing):
            return objects.listing(request, access, object_store)
        browsing = require(adapter, TableBrowsing)
        grid = GridForm(request.GET).valid()
        ns, obj = grid.cleaned_data["ns"], grid.cleaned_data["obj"]
        ctx: dict[str, Any] = {"connection": connection, "ns": ns, "obj": obj, "documents": browsing.documents}
        if ns is None:
            namespaces = browsing.namespaces()
            if len(namespaces) == 1:
                return redirect(
                    reverse("explorer:browse", args=[connection.pk]) + params.state(request.GET, ns=namespaces[0].name)
                )
            ctx["namespaces"] = namespaces
            return render(request, "explorer/browse.html", ctx)
        if not obj:
            ctx["listing"] = browsing.objects(ns)
            return render(request, "explorer/browse.html", ctx)
        ctx.update(_grid_context(request, access, browsing, grid))
    if request.htmx and not request.htmx.history_restore_request:
        # A pager or sort link swapped the grid in place (hx-target="#grid"); the URL was pushed.
        response = render(request, "explorer/browse.html#grid", ctx)
    else:
        response = render(request, "explorer/browse.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
@explorer_view()
def count(request: HttpRequest, access: Access) -> HttpResponse:
    """The exact count, only when asked, under the statement timeout."""
    connection = access.connection
    grid = GridForm(request.GET, need_object=True).valid()
    ns, obj = grid.cleaned_data["ns"] or "", grid.cleaned_data["obj"]
    preq = grid.page_request()
    with engine(access) as adapter:
        total = require(adapter, TableBrowsing).count_exact(ns, obj, preq)
    record("query.count", request=request, connection=connection, target=f"{ns}.{obj}", filters=len(preq.filters))
    ctx = {"total": total, "connection": connection}
    if request.htmx:
        return render(request, "explorer/browse.html#exact-count", ctx)
    grid_url = params.link("explorer:browse", connection.pk, ns=ns, obj=obj)
    return render(request, "explorer/count.html", {**ctx, "ns": ns, "obj": obj, "grid_url": grid_url})
