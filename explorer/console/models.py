"""The console's rows: a session (held by one host), its runs and their result pages, history, saved queries.

Web processes never hold a database session of their own: they write a ConsoleRun and read
ConsoleResult rows back, so whichever process gets the next request sees the same session.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.safestring import SafeString, mark_safe

from explorer.console import render


class SessionStatus(models.TextChoices):
    OPENING = "opening", "Opening"
    READY = "ready", "Ready"
    CLOSED = "closed", "Closed"


class ConsoleSession(models.Model):
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_only = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.OPENING)
    in_transaction = models.BooleanField(default=False)
    isolation = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    touched_at = models.DateTimeField(auto_now_add=True)  # the last request from the page
    host_at = models.DateTimeField(null=True, blank=True)  # the host's heartbeat
    closed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "connection", "status"])]

    def __str__(self) -> str:
        return f"console session {self.pk} ({self.status})"


class RunKind(models.TextChoices):
    RUN = "run", "Run"
    MORE = "more", "More rows"
    BEGIN = "begin", "Begin"
    COMMIT = "commit", "Commit"
    ROLLBACK = "rollback", "Rollback"
    CLOSE = "close", "Close"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    CANCELLING = "cancelling", "Cancelling"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class ConsoleRun(models.Model):
    session = models.ForeignKey(ConsoleSession, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=RunKind.choices, default=RunKind.RUN)
    text = models.TextField(blank=True)
    batch = models.PositiveIntegerField(default=100)
    isolation = models.CharField(max_length=32, blank=True)
    # MORE: the result continued (its cursor, or its statement re-run past the pages already shown).
    result = models.ForeignKey("ConsoleResult", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    write_confirmed = models.BooleanField(default=False)  # the production connection's name was typed
    dangerous_confirmed = models.BooleanField(default=False)  # an admin confirmed administrative commands
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"console run {self.pk} ({self.kind}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class ConsoleResult(models.Model):
    """One statement's result: the page shown now (the host replaces it on "More"), or its row count or error."""

    run = models.ForeignKey(ConsoleRun, on_delete=models.CASCADE, related_name="results")
    statement = models.PositiveIntegerField()
    start = models.PositiveIntegerField(default=0)
    text = models.TextField()
    columns = models.JSONField(default=list)
    # The page's rows as HTML, every value escaped by explorer.console.render (see `table_html`).
    html = models.TextField(blank=True)
    shown = models.PositiveIntegerField(default=0)  # rows on the page
    page = models.PositiveIntegerField(default=1)
    first_row = models.PositiveBigIntegerField(default=1)
    done = models.BooleanField(default=False)
    has_more = models.BooleanField(default=False)
    held = models.BooleanField(default=False)  # the session still holds its cursor
    rowcount = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=1000, blank=True)
    error_position = models.PositiveIntegerField(null=True, blank=True)
    notice = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "statement"]

    def __str__(self) -> str:
        return f"result {self.statement} of run {self.run_id}"

    @property
    def last_row(self) -> int:
        return self.first_row + self.shown - 1

    @property
    def table_html(self) -> SafeString:
        """The page as a table: `html` holds only what render.body escaped, cell by cell."""
        return mark_safe(render.head(self.columns) + "<tbody>" + self.html + "</tbody>")  # noqa: S308


class QueryHistory(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    ran_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.FloatField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10)  # ok, error, cancelled
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["user", "connection", "-ran_at"])]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.text[:60]}"


class SavedQuery(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
