"""What the collectors keep: per connection its collector's state, statement texts once per
fingerprint, statement samples per bucket (the top ones plus "everything else") and one
health row per bucket; alert rules and the alerts they raised."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

OTHER = "__other__"  # the fingerprint of the "everything else" row of each bucket


class Resolution(models.IntegerChoices):
    MINUTE = 60, "minute"
    HOUR = 3600, "hour"


class Collector(models.Model):
    """One connection's collector: schedule, lease, failures and the last cumulative counters it saw."""

    connection = models.OneToOneField("connections.Connection", on_delete=models.CASCADE, related_name="collector")
    enabled = models.BooleanField(default=True)
    interval_s = models.PositiveIntegerField(default=60)
    next_run_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # in a row; the back-off grows with it
    failure = models.CharField(max_length=500, blank=True)  # why it is not collecting, in words
    position = models.CharField(max_length=200, blank=True)  # incremental sources resume here
    stats_reset = models.DateTimeField(null=True, blank=True)
    # fingerprint -> [calls, total_ms, rows, hit, read], packed by monitoring.deltas.pack
    previous = models.BinaryField(default=b"", blank=True)
    previous_metrics = models.JSONField(default=dict, blank=True)  # counter key -> value
    previous_at = models.DateTimeField(null=True, blank=True)
    latest = models.JSONField(default=dict, blank=True)  # last gauges, tables and notices, for the cards
    resets_seen = models.PositiveIntegerField(default=0)
    ticks = models.PositiveIntegerField(default=0)
    last_tick_ms = models.FloatField(null=True, blank=True)
    last_server_queries = models.PositiveIntegerField(default=0)
    rolled_until = models.DateTimeField(null=True, blank=True)  # minutes before this hour are rolled up

    def __str__(self) -> str:
        return f"collector of {self.connection_id}"

    @property
    def collecting(self) -> bool:
        return self.enabled and not self.failure


class Fingerprint(models.Model):
    """A normalized statement of one connection, its text stored once."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    database = models.CharField(max_length=200, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="monitoring_fingerprint_unique")]

    def __str__(self) -> str:
        return self.key

    @property
    def is_other(self) -> bool:
        return self.key == OTHER


class StatementSample(models.Model):
    """What one statement (or "everything else") did in one bucket: differences, not totals."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.ForeignKey(Fingerprint, on_delete=models.CASCADE, related_name="samples")
    resolution = models.IntegerField(choices=Resolution.choices, default=Resolution.MINUTE)
    bucket = models.DateTimeField()
    ts = models.BigIntegerField(default=0)  # the bucket in epoch seconds: ranges and bins by integer arithmetic
    calls = models.BigIntegerField(default=0)
    total_ms = models.FloatField(default=0)
    rows = models.BigIntegerField(default=0)
    max_ms = models.FloatField(default=0)
    blocks_hit = models.BigIntegerField(default=0)
    blocks_read = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["connection", "resolution", "ts"], name="monitoring_stmt_conn_ts"),
            models.Index(fields=["fingerprint", "resolution", "ts"], name="monitoring_stmt_fp_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint_id} @ {self.bucket}"


class HealthSample(models.Model):
    """One bucket's health figures of a connection: gauges as read, counters as differences."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    resolution = models.IntegerField(choices=Resolution.choices, default=Resolution.MINUTE)
    bucket = models.DateTimeField()
    ts = models.BigIntegerField(default=0)
    gauges = models.JSONField(default=dict)
    counters = models.JSONField(default=dict)
    seconds = models.FloatField(default=60)  # how long the counters' differences cover

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "resolution", "bucket"], name="monitoring_health_unique")
        ]
        indexes = [models.Index(fields=["connection", "resolution", "ts"], name="monitoring_health_conn_ts")]

    def __str__(self) -> str:
        return f"{self.connection_id} @ {self.bucket}"


class AlertKind(models.TextChoices):
    REPLICATION_LAG = "replication_lag", "Replication lag over (s)"
    LONG_TRANSACTION = "long_transaction", "Longest transaction over (s)"
    BLOCKED_SESSIONS = "blocked_sessions", "Blocked sessions over"
    MEAN_DOUBLED = "mean_doubled", "A statement's mean time doubled against last week"
    COLLECTOR_FAILING = "collector_failing", "The collector is failing"


class AlertRule(models.Model):
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    threshold = models.FloatField(default=0)
    emails = models.CharField(max_length=500, blank=True)  # comma separated
    webhook = models.URLField(max_length=500, blank=True)
    silenced_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "kind"], name="monitoring_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.threshold:g}"

    def email_list(self) -> list[str]:
        return [e.strip() for e in self.emails.split(",") if e.strip()]


class AlertState(models.TextChoices):
    FIRING = "firing", "firing"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    RESOLVED = "resolved", "resolved"


class AlertEvent(models.Model):
    """One alert: raised once while its condition holds, resolved when it stops."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.FIRING)
    subject = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    value = models.FloatField(null=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return self.subject

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "state": self.state, "value": self.value}


class SelfTiming(models.Model):
    """dbdeck's own statements against an engine without statement statistics (SQLite), until collected."""

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    text = models.TextField()
    calls = models.PositiveIntegerField(default=1)
    total_ms = models.FloatField()
    max_ms = models.FloatField()
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} on {self.connection_id}"
