"""Live sessions and the blocking tree; cancel and terminate for admins, confirmed on production, audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.record import record
from connections.access import get_connection_for
from connections.engines import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import SessionInfo


def blocking_tree(sessions: list[SessionInfo]) -> list[tuple[int, SessionInfo]]:
    """(depth, session) in tree order: each blocker with the sessions waiting on it under it."""
    by_id = {s.id: s for s in sessions}
    waiting: dict[str, list[SessionInfo]] = {}
    for s in sessions:
        for blocker in s.blocked_by:
            waiting.setdefault(blocker, []).append(s)
    roots = [s for s in sessions if s.id in waiting and not any(b in by_id for b in s.blocked_by)]
    out: list[tuple[int, SessionInfo]] = []
    seen: set[str] = set()

    def walk(session: SessionInfo, depth: int) -> None:
        if session.id in seen or depth > 20:
            return
        seen.add(session.id)
        out.append((depth, session))
        for child in waiting.get(session.id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out


@login_required
def sessions_page(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk)
    error, sessions = "", []
    try:
        with access.connection.adapter(read_only=not access.can_write) as adapter:
            monitor = adapter.get(Monitor)
            if monitor is None:
                raise EngineError(f"{adapter.display_name} has no monitoring.", "config")
            sessions = monitor.sessions()
            can_cancel = type(monitor).cancel_session is not Monitor.cancel_session
            can_terminate = type(monitor).terminate_session is not Monitor.terminate_session
    except EngineError as exc:
        error, can_cancel, can_terminate = exc.message, False, False
    ctx = {
        "connection": access.connection,
        "access": access,
        "sessions": sessions,
        "tree": blocking_tree(sessions),
        "error": error,
        "is_admin": access.role.allows(Role.ADMIN),
        "can_cancel": can_cancel,
        "can_terminate": can_terminate,
    }
    return render(request, "monitoring/sessions.html", ctx)


@login_required
@require_POST
def session_action(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk, need=Role.ADMIN)
    connection = access.connection
    session_id = request.POST.get("session", "")[:64]
    action = request.POST.get("action", "")
    back = reverse("monitoring:sessions", args=[pk])
    if action not in ("cancel", "terminate"):
        messages.error(request, "Choose cancel or terminate.")
        return HttpResponseRedirect(back)
    if connection.production and request.POST.get("confirm", "") != connection.name:
        messages.error(request, f"This is a production connection: type its name ({connection.name}) to {action}.")
        return HttpResponseRedirect(back)
    try:
        with connection.adapter() as adapter:
            monitor = adapter.get(Monitor)
            if monitor is None:
                raise EngineError(f"{adapter.display_name} has no monitoring.", "config")
            (monitor.cancel_session if action == "cancel" else monitor.terminate_session)(session_id)
    except NotImplementedError:
        messages.error(request, f"{connection.adapter_cls.display_name} cannot {action} a session.")
        return HttpResponseRedirect(back)
    except EngineError as exc:
        record(
            f"monitoring.session_{action}",
            request=request,
            connection=connection,
            target=session_id,
            ok=False,
            error=exc.message,
        )
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    record(f"monitoring.session_{action}", request=request, connection=connection, target=session_id, ok=True)
    messages.success(request, f"Session {session_id}: {action} sent.")
    return HttpResponseRedirect(back)


@login_required
@require_POST
def profiling_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn the server's statement profiler on or off (MongoDB): an explicit admin action, audited."""
    access = get_connection_for(request.user, pk, need=Role.ADMIN)
    back = reverse("monitoring:connection", args=[pk])
    try:
        level, slow_ms = int(request.POST.get("level", "")), int(request.POST.get("slow_ms", "100"))
    except ValueError:
        messages.error(request, "The profiling level is 0, 1 or 2 and slowms a number.")
        return HttpResponseRedirect(back)
    try:
        with access.connection.adapter() as adapter:
            monitor = adapter.get(Monitor)
            if monitor is None:
                raise EngineError(f"{adapter.display_name} has no monitoring.", "config")
            monitor.set_profiling(level, slow_ms)
    except NotImplementedError:
        messages.error(request, f"{access.connection.adapter_cls.display_name} has no profiler switch.")
        return HttpResponseRedirect(back)
    except EngineError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    record("monitoring.profiling", request=request, connection=access.connection, level=level, slow_ms=slow_ms)
    messages.success(request, f"Profiling level set to {level} (slowms {slow_ms}).")
    return HttpResponseRedirect(back)
