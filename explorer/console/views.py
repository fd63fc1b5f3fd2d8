"""The console pages: the editor, runs polled until done (HTTP 286), Cancel, More, transactions, export.

Views only write ConsoleRun rows and read ConsoleResult rows; the session host does the work.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.models import Role
from connections.access import Access
from connections.engines.capabilities import Console, Explain
from explorer.console import wake
from explorer.console.forms import PAGE_SIZES, RunForm, SavedQueryForm, TransactionForm
from explorer.console.jobs import start_host
from explorer.console.models import (
    FINISHED,
    ConsoleResult,
    ConsoleRun,
    ConsoleSession,
    QueryHistory,
    RunKind,
    RunStatus,
    SavedQuery,
    SessionStatus,
)
from explorer.console.schema import completion_words
from explorer.models import Export, ExportFormat
from explorer.tasks import run_export
from explorer.views.common import explorer_view

FIRST_PAGE_WAIT_S = 2.0  # a run's answer waits this long for its first page, then polls


def _console_cls(access: Access) -> type[Console]:
    cls = access.connection.adapter_cls
    if not cls.has(Console):
        raise ValidationError(f"{cls.display_name} has no query console.")
    module, _, name = cls.capabilities[Console].rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def _session(request: HttpRequest, access: Access, *, create: bool) -> ConsoleSession | None:
    read_only = not access.can_write
    session = (
        ConsoleSession.objects.filter(user=request.user, connection=access.connection, read_only=read_only)
        .exclude(status=SessionStatus.CLOSED)
        .order_by("-id")
        .first()
    )
    if session is None and create:
        session = ConsoleSession.objects.create(user=request.user, connection=access.connection, read_only=read_only)
        pk = session.pk
        transaction.on_commit(lambda: start_host(pk))
    if session is not None:
        touch(session.pk)
    return session


def touch(session_pk: int) -> None:
    """The page is still there (the host's idle limit counts from this); written at most every 2 s."""
    now = timezone.now()
    ConsoleSession.objects.filter(pk=session_pk, touched_at__lt=now - timedelta(seconds=2)).update(touched_at=now)


def _own_run(request: HttpRequest, access: Access, run_pk: int) -> ConsoleRun:
    run = get_object_or_404(
        ConsoleRun.objects.select_related("session"), pk=run_pk, session__connection=access.connection
    )
    if run.session.user_id != request.user.pk:
        raise Http404("No such run.")
    touch(run.session_id)
    return run


def _context(request: HttpRequest, access: Access, **extra: object) -> dict[str, object]:
    cls = _console_cls(access)
    session = extra.get("session")
    return {
        "connection": access.connection,
        "access": access,
        "language": cls.language,
        "isolation_levels": cls.isolation_levels,
        "is_admin": access.role.allows(Role.ADMIN),
        "can_write": access.can_write,
        "has_explain": access.connection.adapter_cls.has(Explain),
        "saved": SavedQuery.objects.filter(team_id=access.connection.team_id, connection=access.connection)[:50],
        "session": session,
        "words": completion_words(access) if cls.language == "sql" else [],
        "page_sizes": PAGE_SIZES,
        "batch": 100,
        **extra,
    }


@login_required
@explorer_view()
def console(request: HttpRequest, access: Access) -> HttpResponse:
    session = _session(request, access, create=True)
    run = None
    if request.GET.get("run", "").isdigit():
        run = ConsoleRun.objects.filter(pk=int(request.GET["run"]), session__user=request.user).first()
    text = request.GET.get("text", "") or (run.text if run else "")
    form = RunForm(initial={"text": text, "batch": 100})
    return render(request, "explorer/console.html", _context(request, access, session=session, run=run, form=form))


@login_required
@require_POST
@explorer_view()
def console_run(request: HttpRequest, access: Access) -> HttpResponse:
    form = RunForm(request.POST)
    session = _session(request, access, create=True)
    if not form.is_valid():
        ctx = _context(request, access, session=session, form=form, run=None)
        return render(request, "explorer/console.html", ctx, status=400)
    confirm = form.cleaned_data["confirm_name"].strip()
    run = ConsoleRun.objects.create(
        session=session,
        text=form.cleaned_data["text"],
        batch=form.cleaned_data["batch"],
        write_confirmed=bool(confirm) and confirm == access.connection.name,
        dangerous_confirmed=form.cleaned_data["confirm_dangerous"] and access.role.allows(Role.ADMIN),
    )
    return _show_run(request, access, run)


def _show_run(request: HttpRequest, access: Access, run: ConsoleRun, shown: ConsoleRun | None = None) -> HttpResponse:
    """Wake the host, wait briefly for the first page (or the end), then show what there is.

    `shown` is the run whose results the page displays, when it is not `run` itself ("More"
    continues a result of an earlier run).
    """
    wake.ring(run.session_id)
    deadline = time.monotonic() + FIRST_PAGE_WAIT_S
    pause = 0.001
    while time.monotonic() < deadline:
        status = ConsoleRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        if status in FINISHED or ConsoleResult.objects.filter(run_id=run.pk).exclude(shown=0, done=False).exists():
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.004)
    shown = shown or run
    if request.htmx:
        return _run_partial(request, access, shown)
    return redirect(reverse("explorer:console", args=[access.connection.pk]) + "?" + urlencode({"run": shown.pk}))


def _run_partial(request: HttpRequest, access: Access, run: ConsoleRun) -> HttpResponse:
    run.refresh_from_db()
    session = ConsoleSession.objects.get(pk=run.session_id)
    ctx = {
        "connection": access.connection,
        "run": run,
        "session": session,
        "results": list(ConsoleResult.objects.filter(run=run)),
        "has_explain": access.connection.adapter_cls.has(Explain),
        "can_write": access.can_write,
    }
    response = render(request, "explorer/console_run.html", ctx)
    if run.finished or session.status == SessionStatus.CLOSED:
        stop = HttpResponseStopPolling()
        stop.content = response.content
        return stop
    return response


@login_required
@explorer_view()
def console_run_status(request: HttpRequest, access: Access, run_pk: int) -> HttpResponse:
    run = _own_run(request, access, run_pk)
    if not request.htmx:
        return redirect(reverse("explorer:console", args=[access.connection.pk]) + "?" + urlencode({"run": run.pk}))
    return _run_partial(request, access, run)


@login_required
@require_POST
@explorer_view()
def console_cancel(request: HttpRequest, access: Access, run_pk: int) -> HttpResponse:
    run = _own_run(request, access, run_pk)
    ConsoleRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.CANCELLING)
    ConsoleRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, message="Cancelled before it started."
    )
    return _show_run(request, access, run)


@login_required
@require_POST
@explorer_view()
def console_more(request: HttpRequest, access: Access, result_pk: int) -> HttpResponse:
    result = get_object_or_404(
        ConsoleResult.objects.select_related("run__session"), pk=result_pk, run__session__connection=access.connection
    )
    if result.run.session.user_id != request.user.pk:
        raise Http404("No such result.")
    session = _session(request, access, create=True)
    run = ConsoleRun.objects.create(
        session=session,
        kind=RunKind.MORE,
        text=result.text,
        batch=result.run.batch,
        result=result,
        write_confirmed=result.run.write_confirmed,
    )
    return _show_run(request, access, run, shown=result.run)


@login_required
@require_POST
@explorer_view()
def console_transaction(request: HttpRequest, access: Access) -> HttpResponse:
    form = TransactionForm(request.POST)
    if not form.is_valid():
        raise ValidationError("Choose BEGIN, COMMIT or ROLLBACK.")
    cls = _console_cls(access)
    isolation = form.cleaned_data["isolation"]
    if isolation and isolation not in cls.isolation_levels:
        raise ValidationError(f"Choose one of: {', '.join(cls.isolation_levels)}.")
    if not cls.isolation_levels:
        raise ValidationError(f"{access.connection.adapter_cls.display_name} has no transactions in the console.")
    session = _session(request, access, create=True)
    run = ConsoleRun.objects.create(session=session, kind=form.cleaned_data["action"], isolation=isolation)
    return _show_run(request, access, run)


@login_required
@explorer_view()
def console_history(request: HttpRequest, access: Access) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    rows = QueryHistory.objects.filter(user=request.user, connection=access.connection)
    if q:
        rows = rows.filter(text__icontains=q)
    ctx = {"connection": access.connection, "q": q, "rows": rows[:200]}
    return render(request, "explorer/console_history.html", ctx)


@login_required
@explorer_view()
def console_saved(request: HttpRequest, access: Access) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    form = SavedQueryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not access.can_write:
            raise ValidationError("Saving shared queries needs the editor role.")
        if form.is_valid():
            SavedQuery.objects.create(
                team_id=access.connection.team_id,
                connection=access.connection,
                created_by=request.user,
                **form.cleaned_data,
            )
            return redirect("explorer:console_saved", access.connection.pk)
    rows = SavedQuery.objects.filter(team_id=access.connection.team_id, connection=access.connection)
    if q:
        rows = rows.filter(name__icontains=q) | rows.filter(text__icontains=q)
    ctx = {"connection": access.connection, "q": q, "rows": rows[:200], "form": form, "can_write": access.can_write}
    return render(request, "explorer/console_saved.html", ctx, status=400 if form.errors else 200)


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def console_saved_delete(request: HttpRequest, access: Access, saved_pk: int) -> HttpResponse:
    get_object_or_404(SavedQuery, pk=saved_pk, connection=access.connection).delete()
    return redirect("explorer:console_saved", access.connection.pk)


@login_required
@require_POST
@explorer_view()
def console_export(request: HttpRequest, access: Access, result_pk: int) -> HttpResponse:
    result = get_object_or_404(
        ConsoleResult.objects.select_related("run__session"), pk=result_pk, run__session__connection=access.connection
    )
    if result.run.session.user_id != request.user.pk:
        raise Http404("No such result.")
    fmt = request.POST.get("format", ExportFormat.CSV)
    if fmt not in (ExportFormat.CSV, ExportFormat.JSONL):
        raise ValidationError("Console results export as CSV or JSON lines.")
    from django.conf import settings

    export = Export.objects.create(
        connection=access.connection,
        user=request.user,
        obj="console statement",
        statement=result.text,
        format=fmt,
        max_rows=int(getattr(settings, "DBDECK_EXPORT_MAX_ROWS", 1_000_000)),
    )
    transaction.on_commit(lambda: run_export.delay(export.pk))
    return redirect(export)
