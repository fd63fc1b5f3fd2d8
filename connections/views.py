from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.access import team_role, teams_for
from accounts.models import Membership, Role
from audit.record import record
from connections.access import connections_for, get_connection_for
from connections.forms import (
    ConnectionForm,
    DeleteConnectionForm,
    GrantForm,
    MoveConnectionForm,
    NewConnectionForm,
)
from connections.models import Connection, ConnectionGrant
from connections.probe import CheckResult, probe, probe_and_store


@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    rows = connections_for(request.user)
    groups = [(team, list(items)) for team, items in groupby(rows, key=lambda row: row[0].team)]
    ctx = {
        "groups": groups,
        "can_create": teams_for(request.user, Role.ADMIN).exists(),
        "memberless": not rows and not teams_for(request.user).exists(),
    }
    return render(request, "connections/list.html", ctx)


def _form_page(
    request: HttpRequest, form: ConnectionForm, connection: Connection | None, result: CheckResult | None = None
) -> HttpResponse:
    ctx = {"form": form, "connection": connection, "result": result, "engine_forms": form.engine_forms()}
    if request.htmx and "_test" in request.POST:
        return render(request, "connections/form.html#test-result", ctx)
    return render(request, "connections/form.html", ctx)


def _save_or_test(request: HttpRequest, form: ConnectionForm, connection: Connection | None) -> HttpResponse:
    if request.method != "POST" or not form.is_valid():
        return _form_page(request, form, connection)
    if "_test" in request.POST:
        # Test what is in the form without saving; a blank password means "the saved one".
        return _form_page(request, form, connection, probe(form.save(commit=False)))
    changes = form.changes()
    saved = form.save(commit=False)
    if connection is None:
        saved.created_by = request.user
    saved.save()
    action = "connection.create" if connection is None else "connection.update"
    record(action, request=request, connection=saved, target=saved.name, changes=changes)
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect(saved)


@sensitive_post_parameters("secret", "readonly_secret")
@login_required
def connection_create(request: HttpRequest) -> HttpResponse:
    teams = teams_for(request.user, Role.ADMIN)
    if not teams.exists():
        raise PermissionDenied("Only team admins add connections. Ask an admin of your team.")
    initial = {"team": request.GET.get("team") or teams.first(), "engine": request.GET.get("engine", "postgresql")}
    form = NewConnectionForm(request.POST or None, teams=teams, initial=initial)
    return _save_or_test(request, form, None)


@sensitive_post_parameters("secret", "readonly_secret")
@login_required
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection_for(request.user, pk, need=Role.ADMIN).connection
    form = ConnectionForm(request.POST or None, instance=connection)
    return _save_or_test(request, form, connection)


@login_required
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection, role = get_connection_for(request.user, pk)
    ctx: dict[str, object] = {"connection": connection, "role": role, "is_admin": role.allows(Role.ADMIN)}
    team_admin = team_role(request.user, connection.team)
    ctx["is_team_admin"] = team_admin is not None and team_admin.allows(Role.ADMIN)
    if role.allows(Role.ADMIN):
        ctx["grants"] = ConnectionGrant.objects.filter(connection=connection).select_related("user")
        ctx["grant_form"] = GrantForm()
    return render(request, "connections/detail.html", ctx)


@require_POST
@login_required
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection, role = get_connection_for(request.user, pk)
    result = probe_and_store(connection, read_only=not role.allows(Role.EDITOR))
    record("connection.check", request=request, connection=connection, target=connection.name, ok=result.ok)
    if request.htmx:
        return render(request, "connections/_check.html", {"result": result, "connection": connection})
    (messages.success if result.ok else messages.error)(request, f"{connection.name}: {result.message}")
    return redirect("connections:list" if request.POST.get("next") == "list" else connection)


@login_required
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection_for(request.user, pk, need=Role.ADMIN).connection
    form = DeleteConnectionForm(request.POST or None, connection=connection)
    if request.method == "POST" and form.is_valid():
        record("connection.delete", request=request, connection=connection, target=connection.name)
        name = connection.name
        connection.delete()
        messages.success(request, f"Deleted “{name}”.")
        return redirect("connections:list")
    return render(request, "connections/delete.html", {"connection": connection, "form": form})


@login_required
def connection_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a connection to another team: admin of both teams by team role, name typed to confirm."""
    connection = get_connection_for(request.user, pk, need=Role.ADMIN).connection
    source_role = team_role(request.user, connection.team)
    if source_role is None or not source_role.allows(Role.ADMIN):
        raise PermissionDenied(
            f"Moving needs the admin role in {connection.team.name} itself, not only on this connection."
        )
    form = MoveConnectionForm(request.POST or None, connection=connection, teams=teams_for(request.user, Role.ADMIN))
    if request.method == "POST" and form.is_valid():
        source = connection.team.name
        try:
            dropped = connection.move_to(form.cleaned_data["team"], by=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            note = f" Grants removed for: {', '.join(dropped)}." if dropped else ""
            messages.success(request, f"Moved “{connection.name}” from {source} to {connection.team.name}.{note}")
            return redirect(connection)
    return render(request, "connections/move.html", {"connection": connection, "form": form})


@require_POST
@login_required
def connection_grant(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_connection_for(request.user, pk, need=Role.ADMIN).connection
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a username and a role.")
        return redirect(connection)
    user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
    if user is None or not Membership.objects.filter(user=user, team=connection.team).exists():
        messages.error(request, "Grants are for members of this connection's team; add them to the team first.")
        return redirect(connection)
    role = form.cleaned_data["role"]
    if role:
        ConnectionGrant.objects.update_or_create(user=user, connection=connection, defaults={"role": role})
        record("grant.set", request=request, connection=connection, target=user.username, role=role)
        messages.success(request, f"{user.username} is now {role} on {connection.name}.")
    else:
        ConnectionGrant.objects.filter(user=user, connection=connection).delete()
        record("grant.remove", request=request, connection=connection, target=user.username)
        messages.success(request, f"{user.username} has their team role on {connection.name} again.")
    return redirect(connection)
