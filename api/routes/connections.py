"""Connections: list, read, test; create, update and delete for admins. Secrets are write-only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Field as F
from ninja import Query, Router, Schema, Status

from accounts.access import Forbidden
from accounts.models import Role
from api import access, cursors
from api.problems import form_errors
from api.responses import ID, answers, needs
from api.schemas import CheckOut, ConnectionIn, ConnectionList, ConnectionOut, ConnectionPatch
from audit.record import record
from connections.access import Access
from connections.engines import ENGINES, adapter_class
from connections.forms import OPTION_FIELDS, ConnectionForm, DeleteConnectionForm, NewConnectionForm
from connections.models import Connection
from connections.probe import probe_and_store

router = Router(tags=["connections"])
PAGE = 100


def out(item: Access) -> dict[str, Any]:
    connection, role = item
    cls = connection.adapter_cls
    return {
        "id": connection.pk,
        "name": connection.name,
        "team": {"id": connection.team_id, "name": connection.team.name},
        "engine": connection.engine,
        "engine_name": cls.display_name,
        "host": connection.host,
        "port": connection.port,
        "database": connection.database,
        "username": connection.username,
        "readonly_username": connection.readonly_username,
        "production": connection.production,
        "options": dict(connection.options or {}),
        "role": role.value,
        "has_secret": connection.has_secret,
        "has_readonly_secret": bool(connection.readonly_secret_token),
        "capabilities": sorted(c.__name__ for c in cls.capabilities if cls.has(c)),
        "last_check": {
            "ok": connection.last_check_ok,
            "message": connection.last_check_message,
            "at": connection.last_check_at,
        },
    }


class Paging(Schema):
    cursor: str = F("", description="next_cursor of the previous page.")
    limit: int = F(PAGE, ge=1, le=500)


@router.get("", response=answers(ConnectionList), openapi_extra=needs(Role.VIEWER))
def connection_list(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Every connection you may see, by id, with your effective role on each."""
    after = cursors.read_id(paging.cursor)
    found = sorted((a for a in access.visible_connections(request) if a.connection.pk > after), key=lambda a: a[0].pk)
    page = found[: paging.limit]
    more = len(found) > paging.limit
    return {"items": [out(a) for a in page], "next_cursor": cursors.make_id(page[-1].connection.pk) if more else None}


@router.get("/{id:pk}", response=answers(ConnectionOut), openapi_extra=needs(Role.VIEWER))
def connection_detail(request: HttpRequest, pk: ID) -> dict[str, Any]:
    return out(access.connection_for(request, pk))


@router.post("/{id:pk}/test", response=answers(CheckOut), openapi_extra=needs(Role.VIEWER))
def connection_test(request: HttpRequest, pk: ID) -> dict[str, Any]:
    """Connect and run the engine's check; the result is kept on the connection, as the page does."""
    connection, role = access.connection_for(request, pk)
    result = probe_and_store(connection, read_only=not role.allows(Role.EDITOR))
    record(
        "connection.check",
        request=request,
        connection=connection,
        target=connection.name,
        ok=result.ok,
        **access.via(request),
    )
    return {
        "ok": result.ok,
        "message": result.message,
        "version": result.version,
        "latency_ms": result.latency_ms,
        "kind": result.kind,
    }


def _form_data(fields: dict[str, Any]) -> QueryDict:
    """The API's fields as the connection form's POST data (engine options are form fields too)."""
    data = QueryDict(mutable=True)
    options = fields.pop("options", None) or {}
    for name, value in {**fields, **{k: v for k, v in options.items() if k in OPTION_FIELDS}}.items():
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    unknown = sorted(set(options) - set(OPTION_FIELDS))
    if unknown:
        data["_unknown_options"] = ",".join(unknown)
    return data


def _refuse_unknown(data: QueryDict) -> HttpResponse | None:
    unknown = data.get("_unknown_options")
    if unknown:
        return form_errors({"options": [f"Unsupported options: {unknown.replace(',', ', ')}"]})
    return None


def _current(connection: Connection) -> dict[str, Any]:
    opts = connection.options or {}
    values: dict[str, Any] = {
        "name": connection.name,
        "engine": connection.engine,
        "host": connection.host,
        "port": connection.port,
        "database": connection.database,
        "username": connection.username,
        "readonly_username": connection.readonly_username,
        "production": connection.production,
    }
    values.update(
        {k: opts[k] for k in ("tls_mode", "connect_timeout", "statement_timeout", *OPTION_FIELDS) if k in opts}
    )
    values.setdefault("tls_mode", connection.adapter_cls.default_tls)
    values.setdefault("connect_timeout", settings.DBDECK_CONNECT_TIMEOUT)
    values.setdefault("statement_timeout", settings.DBDECK_STATEMENT_TIMEOUT)
    return values


def _save(request: HttpRequest, form: ConnectionForm, before: Connection | None) -> Any:
    if not form.is_valid():
        return form_errors(form.errors)
    changes = form.changes()
    saved = form.save(commit=False)
    if before is None:
        saved.created_by = request.user
    saved.save()
    action = "connection.create" if before is None else "connection.update"
    record(action, request=request, connection=saved, target=saved.name, changes=changes, **access.via(request))
    return saved


@router.post("", response=answers(ConnectionOut, status=201), openapi_extra=needs(Role.ADMIN))
def connection_create(request: HttpRequest, body: ConnectionIn) -> Any:
    """Add a connection to a team you administer."""
    teams = access.admin_teams(request)
    if not teams.exists():
        raise Forbidden("Only team admins add connections. Ask an admin of your team.")
    fields = body.dict()
    cls = adapter_class(body.engine) if body.engine in ENGINES else None
    fields["tls_mode"] = fields["tls_mode"] or (cls.default_tls if cls else "prefer")
    fields["connect_timeout"] = fields["connect_timeout"] or settings.DBDECK_CONNECT_TIMEOUT
    fields["statement_timeout"] = fields["statement_timeout"] or settings.DBDECK_STATEMENT_TIMEOUT
    data = _form_data(fields)
    if refused := _refuse_unknown(data):
        return refused
    if not teams.filter(pk=body.team).exists():
        return form_errors({"team": ["Choose one of the teams you administer."]})
    saved = _save(request, NewConnectionForm(data, teams=teams), None)
    if isinstance(saved, HttpResponse):
        return saved
    return Status(201, out(access.connection_for(request, saved.pk)))


@router.patch("/{id:pk}", response=answers(ConnectionOut), openapi_extra=needs(Role.ADMIN))
def connection_update(request: HttpRequest, pk: ID, body: ConnectionPatch) -> Any:
    """Change some fields; absent ones keep their value, and secrets stay unless given."""
    connection = access.connection_for(request, pk, need=Role.ADMIN).connection
    given = body.dict(exclude_unset=True)
    fields = _current(connection)
    options = {**{k: v for k, v in fields.items() if k in OPTION_FIELDS}, **(given.pop("options", None) or {})}
    fields.update({k: v for k, v in given.items() if v is not None})
    fields["options"] = options
    data = _form_data(fields)
    if refused := _refuse_unknown(data):
        return refused
    saved = _save(request, ConnectionForm(data, instance=connection), connection)
    if isinstance(saved, HttpResponse):
        return saved
    return out(access.connection_for(request, saved.pk))


class Confirm(Schema):
    confirm: str = F("", description="A production connection's name, typed to confirm.")


@router.delete("/{id:pk}", response=answers(None, status=204), openapi_extra=needs(Role.ADMIN))
def connection_delete(request: HttpRequest, pk: ID, confirm: Query[Confirm]) -> Any:
    connection = access.connection_for(request, pk, need=Role.ADMIN).connection
    form = DeleteConnectionForm({"confirm": confirm.confirm}, connection=connection)
    if not form.is_valid():
        return form_errors(form.errors)
    record("connection.delete", request=request, connection=connection, target=connection.name, **access.via(request))
    connection.delete()
    return Status(204, None)
