"""Object stores (S3, GCS, Azure): buckets and prefixes by delimiter listing, object detail, download, links, upload.

The words each store uses (custom metadata prefix, storage class or access tier, link name)
come from the store's ObjectBrowsing capability, so nothing here asks which store it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from audit.record import record
from connections.access import Access
from connections.engines import EngineError
from connections.engines.browse import ObjectBrowsing, ObjectMeta
from explorer import params
from explorer.forms import MAX_PRESIGN_SECONDS, BucketForm, ObjectDeleteForm, ObjectForm, PresignForm, UploadForm
from explorer.views.common import engine, explorer_view, require

PRESIGN_CHOICES = [(300, "5 minutes"), (3600, "1 hour"), (86400, "1 day"), (MAX_PRESIGN_SECONDS, "7 days")]
MAX_VERSIONS = 50


def _summary(meta: ObjectMeta | None) -> dict[str, Any] | None:
    """An object's metadata for the audit trail (before and after a change)."""
    if meta is None:
        return None
    return {
        "size": meta.size,
        "etag": meta.etag,
        "modified": meta.modified.isoformat() if hasattr(meta.modified, "isoformat") else str(meta.modified or ""),
        "content_type": meta.content_type,
        "version": meta.version,
    }


def _head_or_none(store: ObjectBrowsing, bucket: str, key: str) -> ObjectMeta | None:
    try:
        return store.head_object(bucket, key)
    except EngineError as exc:
        if exc.kind == "database":  # not there (yet)
            return None
        raise


def listing(request: HttpRequest, access: Access, store: ObjectBrowsing) -> HttpResponse:
    connection = access.connection
    form = BucketForm(request.GET).valid().cleaned_data
    bucket, prefix = form["ns"], form["prefix"]
    ctx: dict[str, Any] = {"connection": connection, "style": "objects", "ns": bucket, "store": store}
    if not bucket:
        ctx["namespaces"] = store.namespaces()
        return render(request, "explorer/objects.html", ctx)
    result = store.list_objects(bucket, prefix=prefix, token=form["token"] or None)
    crumbs = params.crumbs(
        prefix, "/", lambda acc: params.link("explorer:browse", connection.pk, ns=bucket, prefix=acc)
    )
    ctx.update(
        {
            "prefix": prefix,
            "listing": result,
            "crumbs": crumbs,
            "more_url": params.state(request.GET, token=result.next_cursor) if result.next_cursor else "",
            "can_write": access.can_write,
        }
    )
    return render(request, "explorer/objects.html", ctx)


def _object(form: ObjectForm) -> tuple[str, str]:
    data = form.valid().cleaned_data
    return data["ns"], data["key"]


@login_required
@require_GET
@explorer_view()
def object_detail(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    bucket, key = _object(ObjectForm(request.GET))
    with engine(access) as adapter:
        store = require(adapter, ObjectBrowsing)
        meta = store.head_object(bucket, key)
        versions = store.versions(bucket, key, MAX_VERSIONS) if store.versions_label else []
    parent = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    ctx = {
        "connection": connection,
        "ns": bucket,
        "meta": meta,
        "store": store,
        "versions": versions,
        "can_write": access.can_write,
        "presign_choices": PRESIGN_CHOICES,
        "parent_url": params.link("explorer:browse", connection.pk, ns=bucket, prefix=parent or None),
    }
    return render(request, "explorer/object.html", ctx)


@login_required
@require_GET
@explorer_view()
def object_download(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    bucket, key = _object(ObjectForm(request.GET))
    adapter = connection.adapter(read_only=not access.can_write)
    try:
        store = require(adapter, ObjectBrowsing)
        meta, chunks = store.open_object(bucket, key)
    except Exception:
        adapter.close()
        raise

    def stream() -> Any:
        try:
            yield from chunks
        finally:
            adapter.close()

    record("data.download", request=request, connection=connection, target=f"{bucket}/{key}", size=meta.size)
    response = StreamingHttpResponse(stream(), content_type="application/octet-stream")
    response["Content-Length"] = str(meta.size)
    filename = key.rsplit("/", 1)[-1] or "object"
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
@explorer_view()
def object_presign(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = PresignForm(request.POST).valid()
    bucket, key = _object(form)
    seconds = form.cleaned_data["expires"]
    with engine(access) as adapter:
        store = require(adapter, ObjectBrowsing)
        url = store.presign(bucket, key, seconds)
    record("data.presign", request=request, connection=connection, target=f"{bucket}/{key}", expires=seconds)
    ctx = {"url": url, "seconds": seconds, "connection": connection, "link_label": store.link_label}
    if request.htmx:
        return render(request, "explorer/object.html#presigned", ctx)
    return render(request, "explorer/presigned.html", ctx)


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def object_upload(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = UploadForm(request.POST, request.FILES, connection=connection).valid()
    data = form.cleaned_data
    bucket, prefix, upload, key = data["ns"], data["prefix"], data["file"], form.key
    with engine(access) as adapter:
        store = require(adapter, ObjectBrowsing)
        before = _head_or_none(store, bucket, key)
        store.put_object(bucket, key, upload, upload.size, upload.content_type or "application/octet-stream")
        after = _head_or_none(store, bucket, key)
    record(
        "data.upload",
        request=request,
        connection=connection,
        target=f"{bucket}/{key}",
        size=upload.size,
        before=_summary(before),
        after=_summary(after),
    )
    messages.success(request, "Uploaded.")
    return redirect(params.link("explorer:browse", connection.pk, ns=bucket, prefix=prefix or None))


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def object_delete(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    bucket, key = _object(ObjectDeleteForm(request.POST, connection=connection))
    with engine(access) as adapter:
        store = require(adapter, ObjectBrowsing)
        meta = store.head_object(bucket, key)
        store.delete_object(bucket, key)
    record(
        "data.delete",
        request=request,
        connection=connection,
        target=f"{bucket}/{key}",
        size=meta.size,
        etag=meta.etag,
        before=_summary(meta),
        after=None,
    )
    messages.success(request, "Deleted.")
    parent = key.rsplit("/", 1)[0] + "/" if "/" in key else None
    return redirect(params.link("explorer:browse", connection.pk, ns=bucket, prefix=parent))
