"""One row or document: view it, follow its foreign keys, edit or delete it by its key."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from audit.record import record
from connections.access import Access
from connections.engines import EngineError, cursor
from connections.engines.browse import TableBrowsing, TableInfo
from connections.models import Connection
from explorer import catalog, params
from explorer.forms import ConfirmedForm, RowForm, RowKeyForm, RowValuesForm
from explorer.views.common import engine, explorer_view, require


def _record_url(connection: Connection, ns: str, obj: str, key: dict[str, Any]) -> str:
    return params.link("explorer:record", connection.pk, ns=ns, obj=obj, key=cursor.encode(key))


def _grid_url(connection: Connection, ns: str, obj: str) -> str:
    return params.link("explorer:browse", connection.pk, ns=ns, obj=obj)


@login_required
@require_http_methods(["GET", "POST"])
@explorer_view()
def record_detail(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    target = RowForm(request.GET).valid().cleaned_data
    ns, obj = target["ns"], target["obj"]
    # The row page names its row in the URL; the edit form posts the key with the values.
    key = RowKeyForm(request.POST if request.method == "POST" else request.GET).valid().cleaned_data["key"]
    with engine(access) as adapter:
        browsing = require(adapter, TableBrowsing)
        info: TableInfo = catalog.describe(connection, browsing, ns, obj)
        if request.method == "POST":
            if not access.can_write:
                return HttpResponse("Editing needs the editor role.", status=403)
            form = RowValuesForm(request.POST, connection=connection, info=info).valid()
            before, after = browsing.update(ns, obj, key, form.values())
            record(
                "data.update",
                request=request,
                connection=connection,
                target=f"{ns}.{obj}",
                key=key,
                before=before,
                after=after,
            )
            messages.success(request, "Saved.")
            new_key = {k: after.get(k, v) for k, v in key.items()} if info.key_kind == "primary" else key
            return redirect(_record_url(connection, ns, obj, new_key))
        row = browsing.record(ns, obj, key)
    if row is None:
        return render(
            request,
            "explorer/error.html",
            {
                "connection": connection,
                "message": "That row no longer exists (or its key changed).",
                "back": _grid_url(connection, ns, obj),
            },
            status=404,
        )
    links = {
        fk_name: _record_url(connection, ref_ns, ref_obj, ref_key)
        for fk_name, (ref_ns, ref_obj, ref_key) in _link_targets(info, row.links).items()
    }
    # Single-column foreign keys also get their link beside the column's value.
    column_links = {
        fk.columns[0]: links[fk.name] for fk in info.foreign_keys if len(fk.columns) == 1 and fk.name in links
    }
    referrers = []
    for fk, estimate in row.referrers:
        grid = params.link(
            "explorer:browse",
            connection.pk,
            ns=fk.namespace,
            obj=fk.table,
            fc=list(fk.columns),
            fo=["eq"] * len(fk.columns),
            fv=[str(row.values.get(c)) for c in fk.ref_columns],
        )
        referrers.append({"fk": fk, "estimate": estimate, "url": grid})
    ctx = {
        "connection": connection,
        "ns": ns,
        "obj": obj,
        "info": info,
        "row": row,
        "links": links,
        "column_links": column_links,
        "referrers": referrers,
        "key_token": cursor.encode(key),
        "can_write": access.can_write and info.editable,
        "grid_url": _grid_url(connection, ns, obj),
    }
    return render(request, "explorer/record.html", ctx)


def _link_targets(info: TableInfo, links: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    by_name = {fk.name: fk for fk in info.foreign_keys}
    return {
        name: (by_name[name].ref_namespace, by_name[name].ref_object, key)
        for name, key in links.items()
        if name in by_name and key
    }


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def record_delete(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    target = RowForm(request.GET).valid().cleaned_data
    ns, obj = target["ns"], target["obj"]
    key = RowKeyForm(request.POST).valid().cleaned_data["key"]
    ConfirmedForm(request.POST, connection=connection).valid()
    with engine(access) as adapter:
        browsing = require(adapter, TableBrowsing)
        before = browsing.delete(ns, obj, key)
    record("data.delete", request=request, connection=connection, target=f"{ns}.{obj}", key=key, before=before)
    messages.success(request, "Deleted.")
    return redirect(_grid_url(connection, ns, obj))


@login_required
@require_http_methods(["GET", "POST"])
@explorer_view(need=Role.EDITOR)
def record_new(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    target = RowForm(request.GET).valid().cleaned_data
    ns, obj = target["ns"], target["obj"]
    with engine(access) as adapter:
        browsing = require(adapter, TableBrowsing)
        info: TableInfo = catalog.describe(connection, browsing, ns, obj)
        if not info.editable:
            raise EngineError("Rows can only be added to tables with a key.", kind="config")
        if request.method == "POST":
            values = RowValuesForm(request.POST, connection=connection, info=info, new=True).valid().values()
            key = browsing.insert(ns, obj, values)
            record("data.insert", request=request, connection=connection, target=f"{ns}.{obj}", key=key, after=values)
            messages.success(request, "Added.")
            return redirect(_record_url(connection, ns, obj, key) if key else _grid_url(connection, ns, obj))
    ctx = {"connection": connection, "ns": ns, "obj": obj, "info": info, "grid_url": _grid_url(connection, ns, obj)}
    return render(request, "explorer/record_new.html", ctx)
