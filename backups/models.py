"""Backup plans, where they go, their runs, the artifacts they leave and the restore-tests that prove them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class DestinationKind(models.TextChoices):
    LOCAL = "local", "Local folder"
    S3 = "s3", "S3 bucket (through an S3 connection)"
    GCS = "gcs", "Cloud Storage bucket (through a Cloud Storage connection)"
    AZURE = "azure", "Azure container (through an Azure Blob Storage connection)"


# The object-store destinations and the engine of the connection each one writes through.
STORE_ENGINES = {DestinationKind.S3: "s3", DestinationKind.GCS: "gcs", DestinationKind.AZURE: "azure"}


class Destination(models.Model):
    """Where artifacts go: a folder under the backup root, or a bucket + prefix through an object-store connection.

    An object-store destination (S3, Cloud Storage, Azure: `s3_connection` holds the connection of
    whichever it is) borrows the connection's credentials each time; nothing is copied here.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="backup_destinations")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=DestinationKind.choices, default=DestinationKind.LOCAL)
    folder = models.CharField(
        max_length=255, blank=True, help_text="Local: a sub-folder of the backup root (empty: the team's own folder)."
    )
    s3_connection = models.ForeignKey(
        "connections.Connection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="backup_destinations",
        verbose_name="object-store connection",
    )
    bucket = models.CharField(max_length=255, blank=True, help_text="The bucket, or on Azure the container.")
    prefix = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_destination_name_per_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def object_store(self) -> bool:
        return self.kind in STORE_ENGINES

    @property
    def where(self) -> str:
        if self.object_store:
            scheme = {DestinationKind.GCS: "gs"}.get(self.kind, self.kind)
            return f"{scheme}://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{self.folder or 'team folder'}"


class BackupPlan(models.Model):
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="backup_plans")
    name = models.CharField(max_length=100)
    # Scope: empty lists mean the whole database.
    scope = models.JSONField(default=dict, blank=True)
    cron = models.CharField(max_length=100, default="0 3 * * *")
    timezone = models.CharField(max_length=64, default="UTC")
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="plans")
    compression_level = models.PositiveSmallIntegerField(default=3)
    encrypt = models.BooleanField(default=True)
    keep_last = models.PositiveSmallIntegerField(default=7)
    keep_daily = models.PositiveSmallIntegerField(default=7)
    keep_weekly = models.PositiveSmallIntegerField(default=4)
    keep_monthly = models.PositiveSmallIntegerField(default=6)
    restore_test_cron = models.CharField(max_length=100, blank=True, default="30 4 * * 0")
    # Restore-tests go here instead of an ephemeral server (MongoDB and S3 need one): a non-production
    # connection of the same team and engine, where a fresh database or prefix is made and dropped.
    sandbox = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="sandbox_for_plans"
    )
    # The badge turns red when no restore-test succeeded within this many hours.
    restore_window_hours = models.PositiveIntegerField(default=8 * 24)
    # [{"query": "SELECT count(*) FROM t", "expected": "42"}]
    verify_queries = models.JSONField(default=list, blank=True)
    alert_emails = models.CharField(max_length=500, blank=True)
    alert_webhook = models.CharField(
        max_length=500, blank=True, help_text="A Slack-compatible JSON webhook (http or https)."
    )
    enabled = models.BooleanField(default=True)
    last_tick_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["connection__name", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="unique_plan_name_per_connection")]

    def __str__(self) -> str:
        return f"{self.name} on {self.connection}"

    def get_absolute_url(self) -> str:
        return reverse("backups:plan", args=[self.pk])

    @property
    def emails(self) -> list[str]:
        return [e.strip() for e in self.alert_emails.split(",") if e.strip()]


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class JobFields(models.Model):
    """What backup runs and restore-tests share: state, who started it, timing, heartbeat, the error in words."""

    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=10, default="manual")  # "manual" | "schedule"
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    phase = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def elapsed(self) -> dt.timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def started_by_text(self) -> str:
        if self.started_by_id:
            return self.started_by.username
        return "schedule" if self.trigger == "schedule" else self.trigger


class BackupRun(JobFields):
    plan = models.ForeignKey(BackupPlan, on_delete=models.CASCADE, related_name="runs")
    bytes_read = models.PositiveBigIntegerField(default=0)
    bytes_written = models.PositiveBigIntegerField(default=0)
    estimated_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    # Multipart uploads in flight ([{"bucket", "key", "upload_id"}]), for Cancel and the reaper to abort.
    uploads = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "scheduled_for"], name="one_backup_run_per_plan_slot"),
        ]

    def __str__(self) -> str:
        return f"backup run {self.pk} of {self.plan.name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("backups:run", args=[self.pk])

    @property
    def rate(self) -> float | None:
        """Bytes read per second."""
        elapsed = self.elapsed
        if not elapsed or elapsed.total_seconds() <= 0:
            return None
        return self.bytes_read / elapsed.total_seconds()

    @property
    def percent(self) -> int | None:
        if self.status == RunStatus.SUCCEEDED:
            return 100
        if not self.estimated_bytes:
            return None
        return min(99, int(100 * self.bytes_read / self.estimated_bytes))

    @property
    def eta(self) -> dt.timedelta | None:
        rate = self.rate
        if not rate or not self.estimated_bytes or self.status != RunStatus.RUNNING:
            return None
        left = max(0, self.estimated_bytes - self.bytes_read)
        return dt.timedelta(seconds=int(left / rate))


class Artifact(models.Model):
    """What a succeeded run left at its destination: the parts and the manifest beside them.

    Only a run that finished writes an Artifact row, and only after the manifest is stored,
    so a partial upload is never listed as a backup.
    """

    run = models.OneToOneField(BackupRun, on_delete=models.CASCADE, related_name="artifact")
    plan = models.ForeignKey(BackupPlan, on_delete=models.CASCADE, related_name="artifacts")
    destination = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="artifacts")
    location = models.CharField(max_length=1024)  # folder path or s3 key prefix of the artifact
    manifest_url = models.CharField(max_length=1200)  # what `manage.py restore` takes
    manifest = models.JSONField(default=dict)
    size = models.PositiveBigIntegerField(default=0)
    key_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.manifest_url


class RestoreTest(JobFields):
    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="restore_tests")
    plan = models.ForeignKey(BackupPlan, on_delete=models.CASCADE, related_name="restore_tests")
    sandbox = models.CharField(max_length=200, blank=True)  # "ephemeral PostgreSQL 15" or the sandbox connection
    # [{"name": "rows in public.orders", "ok": true, "detail": "1000 = 1000"}]
    checks = models.JSONField(default=list, blank=True)
    # {"download_decrypt_decompress_restore_s": ..., "verify_s": ...}
    phases = models.JSONField(default=dict, blank=True)
    rto_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "scheduled_for"], name="one_restore_test_per_plan_slot"),
        ]

    def __str__(self) -> str:
        return f"restore-test {self.pk} of {self.plan.name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("backups:restore_test", args=[self.pk])
