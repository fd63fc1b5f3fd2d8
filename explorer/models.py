from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON lines"
    SQL = "sql", "INSERT statements"


class Export(models.Model):
    """A streamed export of one grid view (all pages), written by a worker to var/exports/."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="exports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    namespace = models.CharField(max_length=1024, blank=True)
    obj = models.CharField(max_length=1024)
    state = models.TextField(blank=True, help_text="The grid's query string: filters, sort, columns.")
    # A console statement's full result instead of a grid view (namespace and obj then stay empty).
    statement = models.TextField(blank=True)
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV)
    max_rows = models.PositiveIntegerField()
    csv_raw = models.BooleanField(
        default=False, help_text="CSV only: write text cells as they are, without neutralising formulas."
    )
    neutralised_cells = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_written = models.PositiveBigIntegerField(default=0)
    bytes_written = models.PositiveBigIntegerField(default=0)
    estimated_rows = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.obj} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("explorer:export_status", args=[self.connection_id, self.pk])

    @property
    def filename(self) -> str:
        return f"export-{self.pk}.{self.format}"

    @property
    def mode(self) -> str:
        """What the file holds, as the status page and the audit trail name it."""
        if self.format != ExportFormat.CSV:
            return str(ExportFormat(self.format).label)
        if self.csv_raw:
            return "CSV, raw"
        if self.status != ExportStatus.DONE:
            return "CSV, formulas neutralised"  # the count is known once the file is complete
        cells = "cell" if self.neutralised_cells == 1 else "cells"
        return f"CSV, formulas neutralised ({self.neutralised_cells} {cells})"

    @property
    def percent(self) -> int | None:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.estimated_rows:
            return None
        return min(99, int(100 * self.rows_written / max(1, min(self.estimated_rows, self.max_rows))))


class SavedPlan(models.Model):
    """An EXPLAIN result kept with a shareable URL; anyone who may open the connection may open it."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="plans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    statement = models.TextField()
    analyzed = models.BooleanField(default=False)
    rolled_back = models.BooleanField(default=False)
    tree = models.JSONField(help_text="The normalized plan (connections.engines.plantree.plan_to_dict).")
    raw = models.TextField(help_text="The engine's own plan text.")
    node_count = models.PositiveIntegerField(default=0)
    total_ms = models.FloatField(null=True, blank=True)
    root_cost = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"plan {self.token} on {self.connection_id}"

    def get_absolute_url(self) -> str:
        return reverse("explorer:plan", args=[self.connection_id, self.token])


class IndexJobAction(models.TextChoices):
    CREATE = "create", "Create"
    DROP = "drop", "Drop"


class IndexJob(models.Model):
    """An index build or drop run by a worker (online where the engine can), with its progress."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="index_jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    action = models.CharField(max_length=8, choices=IndexJobAction.choices)
    namespace = models.CharField(max_length=1024, blank=True)
    obj = models.CharField(max_length=1024)
    columns = models.JSONField(default=list, blank=True)
    unique = models.BooleanField(default=False)
    index_name = models.CharField(max_length=1024, blank=True, help_text="The index to drop.")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    phase = models.CharField(max_length=200, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} index on {self.obj} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("explorer:index_job", args=[self.connection_id, self.pk])

    @property
    def percent(self) -> int | None:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return None
        return min(99, int(100 * self.done / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


from explorer.console.models import (  # noqa: E402,F401  (the console's models belong to this app)
    ConsoleResult,
    ConsoleRun,
    ConsoleSession,
    QueryHistory,
    SavedQuery,
)
