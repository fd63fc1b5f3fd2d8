"""The session host: one plain object holds a console's database session and serves its runs.

It lives in exactly one place (a thread of the `console` Celery worker, or a thread of the
test process), so a transaction or an open cursor survives whichever web process answers
the next request. Web processes write ConsoleRun rows; the host claims them in order, streams
every page into ConsoleResult rows as it arrives, and watches for Cancel on a second thread.
An idle session (no request from its page for a while) is rolled back and closed here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db import connection as db_connection
from django.utils import timezone

from accounts.access import AccessDenied
from connections.access import get_connection_for
from connections.engines import EngineError
from connections.engines.capabilities import Console
from connections.engines.results import ResultChunk
from explorer.console import dbshare, recording, render, wake
from explorer.console.models import (
    ConsoleResult,
    ConsoleRun,
    ConsoleSession,
    RunKind,
    RunStatus,
    SessionStatus,
)
from explorer.console.vet import refusal

log = logging.getLogger(__name__)


def idle_limit() -> float:
    return float(getattr(settings, "DBDECK_CONSOLE_IDLE_S", 300))


def abandon_limit() -> float:
    """A running statement nobody's page asked about for this long is cancelled."""
    return float(getattr(settings, "DBDECK_CONSOLE_ABANDON_S", 30))


def timeout_for(connection: Any, read_only: bool) -> float:
    timeout = connection.params(read_only=read_only).statement_timeout
    if read_only:
        timeout = min(timeout, float(getattr(settings, "DBDECK_CONSOLE_VIEWER_TIMEOUT_S", 15)))
    return timeout


class SessionHost:
    def __init__(self, session_id: int, *, poll: float = 0.5) -> None:
        self.session_id = session_id
        self.poll = poll
        self.console: Console | None = None
        self.adapter: Any = None
        self.held: tuple[Iterator[ResultChunk], ConsoleResult] | None = None
        self.timeout = 30.0
        self._released: list[int] = []

    # ---- life ------------------------------------------------------------------------------
    def serve(self) -> str:
        if not ConsoleSession.objects.filter(pk=self.session_id, status=SessionStatus.OPENING).update(
            status=SessionStatus.READY, host_at=timezone.now()
        ):
            return "skipped"
        reason = "closed"
        self.doorbell = wake.Doorbell(self.session_id)
        try:
            reason = self._open() or self._loop()
        except Exception:
            log.exception("console session %s failed", self.session_id)
            reason = "The console session failed unexpectedly; the worker log has details."
        finally:
            self.doorbell.close()
            self._close(reason)
        return reason

    def _open(self) -> str:
        session = ConsoleSession.objects.select_related("connection", "user").get(pk=self.session_id)
        self.session = session
        try:
            access = get_connection_for(session.user, session.connection_id)
        except AccessDenied:
            return "Access removed: the session was closed."
        read_only = session.read_only or not access.can_write
        self.adapter = access.connection.adapter(read_only=read_only)
        self.console = self.adapter.get(Console)
        if self.console is None:
            return f"{self.adapter.display_name} has no query console."
        self.timeout = timeout_for(access.connection, read_only)
        return ""

    def _loop(self) -> str:
        while True:
            run = ConsoleRun.objects.filter(session_id=self.session_id, status=RunStatus.QUEUED).first()
            session = ConsoleSession.objects.get(pk=self.session_id)
            if session.status == SessionStatus.CLOSED:
                return session.closed_reason or "closed"
            if run is not None:
                if run.kind == RunKind.CLOSE:
                    self._finish(run, RunStatus.DONE, "Session closed.")
                    return "Closed from the page."
                self._handle(run)
                continue
            idle = (timezone.now() - session.touched_at).total_seconds()
            if idle > idle_limit():
                what = " The open transaction was rolled back." if session.in_transaction else ""
                return f"Closed after {idle_limit():g} s without activity.{what}"
            ConsoleSession.objects.filter(pk=self.session_id).update(host_at=timezone.now())
            self.doorbell.wait(self.poll)

    def _close(self, reason: str) -> None:
        self._drop_held()
        self._unhold()
        if self.adapter is not None:
            self.adapter.close()  # rolls back whatever is open
        ConsoleSession.objects.filter(pk=self.session_id).update(
            status=SessionStatus.CLOSED, in_transaction=False, closed_reason=reason[:300]
        )
        ConsoleRun.objects.filter(session_id=self.session_id, status=RunStatus.QUEUED).update(
            status=RunStatus.FAILED, message="The session closed before this ran."
        )

    # ---- runs --------------------------------------------------------------------------------
    def _handle(self, run: ConsoleRun) -> None:
        claimed = ConsoleRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=timezone.now()
        )
        if not claimed:
            return
        assert self.console is not None
        if run.kind != RunKind.MORE or self.held is None or self.held[1].pk != run.result_id:
            self._drop_held()
        try:
            if run.kind == RunKind.BEGIN:
                self.console.begin(run.isolation)
                self._transaction(True, run.isolation)
                self._finish(run, RunStatus.DONE, "Transaction open.")
            elif run.kind == RunKind.COMMIT:
                self.console.commit()
                self._transaction(False)
                self._finish(run, RunStatus.DONE, "Committed.")
            elif run.kind == RunKind.ROLLBACK:
                self.console.rollback()
                self._transaction(False)
                self._finish(run, RunStatus.DONE, "Rolled back.")
            elif run.kind == RunKind.MORE:
                self._watched(run, self._more)
            else:
                self._watched(run, self._run)
        except EngineError as exc:
            self._finish(run, RunStatus.FAILED, exc.message)
        finally:
            self._unhold()

    def _transaction(self, open_: bool, isolation: str = "") -> None:
        ConsoleSession.objects.filter(pk=self.session_id).update(in_transaction=open_, isolation=isolation)

    def _watched(self, run: ConsoleRun, work: Any) -> None:
        """Run `work(run)` while a second thread watches for Cancel and for a page that went away."""
        stop = threading.Event()
        shared = dbshare.shareable()
        watcher = threading.Thread(target=self._watch, args=(run.pk, stop, shared), daemon=True)
        watcher.start()
        try:
            work(run)
        finally:
            stop.set()
            watcher.join()
        assert self.console is not None
        self._transaction(bool(self.console.in_transaction), ConsoleSession.objects.get(pk=self.session_id).isolation)
        status = ConsoleRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        failed = ConsoleResult.objects.filter(run=run).exclude(error="").exists()
        if status == RunStatus.CANCELLING:
            self._finish(run, RunStatus.CANCELLED, "Cancelled.")
        else:
            self._finish(run, RunStatus.FAILED if failed else RunStatus.DONE, "")

    def _watch(self, run_pk: int, stop: threading.Event, shared: Any) -> None:
        dbshare.adopt(shared)
        try:
            while not stop.wait(0.1):
                status = ConsoleRun.objects.filter(pk=run_pk).values_list("status", flat=True).first()
                touched = ConsoleSession.objects.filter(pk=self.session_id).values_list("touched_at", flat=True).first()
                gone = touched is not None and timezone.now() - touched > timedelta(seconds=abandon_limit())
                if status == RunStatus.CANCELLING or gone:
                    if gone:
                        ConsoleRun.objects.filter(pk=run_pk).update(status=RunStatus.CANCELLING)
                    assert self.console is not None
                    self.console.cancel()
                    return
        finally:
            db_connection.close()
            dbshare.release(shared)

    def _run(self, run: ConsoleRun) -> None:
        assert self.console is not None
        console = self.console
        statements = console.statements(run.text)
        run.session = self.session
        refused = refusal(console, self.adapter, run, statements)
        if refused:
            first = statements[0] if statements else None
            ConsoleResult.objects.create(
                run=run, statement=0, start=first.start if first else 0, text=first.text if first else "",
                done=True, error=refused,
            )  # fmt: skip
            recording.statement(run, first.text if first else run.text, "refused", None, None, refused)
            return
        console.allow_dangerous = run.dangerous_confirmed
        last = len(statements) - 1
        results: dict[int, ConsoleResult] = {}
        chunks = console.execute(run.text, timeout=self.timeout, batch=run.batch)
        for chunk in chunks:
            piece = statements[chunk.statement] if chunk.statement < len(statements) else None
            result = results.get(chunk.statement)
            if result is None:
                result = ConsoleResult(
                    run=run,
                    statement=chunk.statement,
                    start=piece.start if piece else 0,
                    text=piece.text if piece else "",
                )
                results[chunk.statement] = result
                self._store(result, chunk, first=True)
            else:
                self._store(result, chunk, first=False)
            if chunk.done:
                recording.finished(run, result)
            elif chunk.statement < last:
                console.next_statement()  # its cursor closes; "More" re-runs it alone
            else:
                recording.finished(run, result)
                self.held = (chunks, result)
                ConsoleResult.objects.filter(pk=result.pk).update(held=True)
                return

    def _store(self, result: ConsoleResult, chunk: ResultChunk, *, first: bool) -> None:
        if first or chunk.rows:
            if not first:
                result.first_row += result.shown
                result.page += 1
            result.html = render.body(chunk.rows, result.first_row)
            result.shown = len(chunk.rows)
        if chunk.columns:
            result.columns = list(chunk.columns)
        result.done = chunk.done
        result.has_more = not chunk.done
        result.rowcount = chunk.rowcount
        result.error = chunk.error[:1000]
        result.error_position = chunk.error_position
        result.notice = chunk.notice[:300] or result.notice
        result.elapsed_ms = chunk.elapsed_ms
        if chunk.done and not chunk.rows and not first and chunk.notice:
            result.has_more = True  # the rest was not fetched: "More" re-runs the statement
        result.save()

    def _more(self, run: ConsoleRun) -> None:
        result = ConsoleResult.objects.get(pk=run.result_id)
        if self.held is not None and self.held[1].pk == result.pk:
            chunks, held = self.held
            chunk = next(chunks, None)
            if chunk is None or chunk.statement != held.statement:
                self._drop_held()
                ConsoleResult.objects.filter(pk=held.pk).update(has_more=False, held=False, done=True)
                return
            self._store(held, chunk, first=False)
            if chunk.done:
                self._drop_held()
                ConsoleResult.objects.filter(pk=held.pk).update(held=False)
            return
        self._rerun(run, result)

    def _rerun(self, run: ConsoleRun, result: ConsoleResult) -> None:
        """The cursor is gone: run the statement alone again and skip the rows already shown."""
        assert self.console is not None
        skip = result.last_row
        seen = 0
        chunks = self.console.execute(result.text, timeout=self.timeout, batch=run.batch)
        for chunk in chunks:
            if chunk.error:
                self._store(result, chunk, first=False)
                return
            if seen + len(chunk.rows) <= skip and not chunk.done:
                seen += len(chunk.rows)
                continue
            rows = chunk.rows[max(0, skip - seen) :]
            result.first_row, result.shown = skip + 1, len(rows)
            result.page += 1
            result.html = render.body(rows, result.first_row)
            result.done = chunk.done
            result.has_more = not chunk.done
            result.held = not chunk.done
            result.save()
            if not chunk.done:
                self.held = (chunks, result)
            return

    def _drop_held(self) -> None:
        """Close the held cursor; its result row says so after the next page is out (see `_unhold`)."""
        if self.held is not None:
            chunks, result = self.held
            self.held = None
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            self._released.append(result.pk)

    def _unhold(self) -> None:
        if self._released:
            ConsoleResult.objects.filter(pk__in=self._released).update(held=False)
            self._released = []

    def _finish(self, run: ConsoleRun, status: str, message: str) -> None:
        ConsoleRun.objects.filter(pk=run.pk).update(status=status, message=message[:500], finished_at=timezone.now())


def serve_session(session_id: int) -> str:
    """Host one session until it closes; the worker's database connection is released afterwards."""
    close_old_connections()
    try:
        return SessionHost(session_id).serve()
    finally:
        db_connection.close()
