from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Role


class AccessToken(models.Model):
    """A personal access token: only the SHA-256 of its secret is kept; the secret is shown once.

    The token acts as its owner, never above `ceiling` and never above the owner's role at the
    time of each request (api/access.py); `team` narrows it to one team's connections.
    The fixed-window counters (`window`, `hits`) are its rate limit (api/ratelimit.py).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=16, editable=False, help_text="The secret's first characters, to tell tokens apart."
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ceiling = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    window = models.BigIntegerField(default=0, editable=False)
    hits = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…) of {self.user}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"
