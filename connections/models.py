from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse

from accounts.models import Role
from connections import crypto, policy
from connections.engines import ENGINES, Adapter, ConnectionParams, EngineError, adapter_class, choices

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import Team


class TlsMode(models.TextChoices):
    DISABLE = "disable", "Disable"
    PREFER = "prefer", "Prefer"
    REQUIRE = "require", "Require"
    VERIFY_FULL = "verify-full", "Verify full"


# Options every engine takes; the engine's own (Adapter.options) come on top, anything else is refused.
COMMON_OPTIONS = ("tls_mode", "connect_timeout", "statement_timeout")


class Connection(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(max_length=100)
    # The registry is the list of engines (connections.checks keeps the two in step).
    engine = models.CharField(max_length=16, choices=choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    database = models.CharField(
        max_length=1024, blank=True, help_text="Database name; file path for SQLite; db index for Redis."
    )
    username = models.CharField(max_length=255, blank=True)
    secret_token = models.TextField(blank=True, editable=False)  # Fernet token, never plaintext
    readonly_username = models.CharField(max_length=255, blank=True)
    readonly_secret_token = models.TextField(blank=True, editable=False)
    options = models.JSONField(default=dict, blank=True)
    production = models.BooleanField(default=False)
    last_check_ok = models.BooleanField(null=True, editable=False)
    last_check_message = models.CharField(max_length=500, blank=True, editable=False)
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="unique_connection_name_per_team")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A connection's team changes only through move_to(), which checks both teams.
        if self.pk is not None and not getattr(self, "_moving", False):
            saved_team = Connection.objects.filter(pk=self.pk).values_list("team_id", flat=True).first()
            if saved_team is not None and saved_team != self.team_id:
                raise ValidationError({"team": "A connection changes team only through its Move page."})
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("connections:detail", args=[self.pk])

    def get_engine_display(self) -> str:
        """The engine's display name from its adapter alone (Django's version builds every engine's choice)."""
        try:
            return adapter_class(self.engine).display_name
        except EngineError:
            return self.engine

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for field in ("host", "database", "username", "readonly_username"):
            try:
                policy.check_name(getattr(self, field), self._meta.get_field(field).verbose_name)
            except ValidationError as exc:
                errors[field] = exc.messages[0]
        if "\x00" in self.name:
            errors["name"] = "The name may not contain a NUL byte."
        cls = adapter_class(self.engine) if self.engine in ENGINES else None
        if cls is None:
            errors["engine"] = "Choose an engine."
        else:
            errors.update(cls.validate(self._settings()))
        if cls is not None and cls.database_is_file and "database" not in errors:
            try:
                policy.check_sqlite_path(self.database, team_id=self.team_id)
            except ValidationError as exc:
                errors["database"] = exc.messages[0]
        if cls is not None and cls.uses("host") and "host" not in errors and self.host.strip():
            try:
                policy.check_host(self.host, self.port if self.port and 0 < self.port < 65536 else None)
            except ValidationError as exc:
                # A name that does not resolve yet may be saved; connecting will say so.
                if exc.error_list[0].code != "unresolvable":
                    errors["host"] = exc.messages[0]
        if self.port is not None and not 0 < self.port < 65536:
            errors["port"] = "Ports run from 1 to 65535."
        own = cls.option_names() if cls is not None else ()
        unknown = set(self.options) - set(COMMON_OPTIONS) - set(own)
        if unknown:
            errors["options"] = "Unsupported options: " + ", ".join(sorted(unknown))
        if errors:
            raise ValidationError(errors)

    def _settings(self) -> dict[str, Any]:
        """The connection in the terms an engine's `validate()` reads (never the secret)."""
        opts = self.options or {}
        return {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.username,
            **opts,
        }

    # Credentials are write-only: set here, read only to build adapter params.
    def set_secret(self, plain: str) -> None:
        self.secret_token = crypto.encrypt(plain)

    def set_readonly_secret(self, plain: str) -> None:
        self.readonly_secret_token = crypto.encrypt(plain)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_token)

    @property
    def has_readonly_credential(self) -> bool:
        return bool(self.readonly_username)

    @property
    def adapter_cls(self) -> type[Adapter]:
        return adapter_class(self.engine)

    def params(self, *, read_only: bool = False) -> ConnectionParams:
        """Build driver parameters after checking the target against the policy again.

        `read_only` selects the read-only credential when one is saved, and asks
        engines that can (SQLite) to open read-only.
        """
        self.full_clean(exclude=["team", "name"], validate_unique=False, validate_constraints=False)
        cls = self.adapter_cls
        address = ""
        if cls.uses("host"):
            address = policy.check_host(self.host, self.port or cls.default_port)
        database = self.database
        if cls.database_is_file:
            database = str(policy.check_sqlite_path(self.database, team_id=self.team_id))
        username, token = self.username, self.secret_token
        if read_only and self.readonly_username:
            username, token = self.readonly_username, self.readonly_secret_token
        opts = self.options or {}
        extra: dict[str, Any] = {k: opts[k] for k in cls.option_names() if k in opts}
        if read_only:
            extra["read_only"] = True
        return ConnectionParams(
            engine=self.engine,
            host=self.host.strip(),
            port=self.port or cls.default_port,
            database=database,
            username=username,
            password=crypto.decrypt(token),
            tls_mode=str(opts.get("tls_mode") or cls.default_tls),
            connect_timeout=float(opts.get("connect_timeout") or settings.DBDECK_CONNECT_TIMEOUT),
            statement_timeout=float(opts.get("statement_timeout") or settings.DBDECK_STATEMENT_TIMEOUT),
            extra=extra,
            address=address,
        )

    def adapter(self, *, read_only: bool = False) -> Adapter:
        return self.adapter_cls(self.params(read_only=read_only))

    def move_to(self, team: Team, *, by: Any, request: HttpRequest | None = None) -> list[str]:
        """Move this connection to another team; return the usernames whose grants were dropped.

        `by` must be an admin of both teams by team role (a per-connection grant is
        not enough). Grants of users outside the new team go; one audit event is
        written in each team's trail.
        """
        from accounts.access import team_role
        from accounts.models import Membership
        from audit.record import record

        source = self.team
        if team.pk == source.pk:
            raise ValidationError("The connection is already in that team.")
        for side in (source, team):
            role = team_role(by, side)
            if role is None or not role.allows(Role.ADMIN):
                raise PermissionDenied(f"Moving a connection needs the admin role in both teams ({side.name}).")
        with transaction.atomic():
            locked = Connection.objects.select_for_update().get(pk=self.pk)
            if locked.team_id != source.pk:
                raise ValidationError("The connection was moved meanwhile; reload the page.")
            if Connection.objects.filter(team=team, name=self.name).exists():
                raise ValidationError(f"{team.name} already has a connection named {self.name!r}; rename one first.")
            self.team = team
            try:
                self.full_clean(exclude=["name"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self.team = source
                raise ValidationError(f"It cannot work in {team.name}: " + " ".join(exc.messages)) from None
            members = Membership.objects.filter(team=team).values("user_id")
            stale = ConnectionGrant.objects.filter(connection=self).exclude(user_id__in=members)
            dropped = sorted(stale.values_list("user__username", flat=True))
            stale.delete()
            self._moving = True
            try:
                self.save(update_fields=["team", "updated_at"])
            finally:
                self._moving = False
            detail = {"from_team": source.name, "to_team": team.name, "grants_removed": dropped}
            for side in (source, team):
                record(
                    "connection.move", request=request, actor=by, team=side, connection=self, target=self.name, **detail
                )
        return dropped


class ConnectionGrant(models.Model):
    """Narrows or widens one member's role on one connection of their team."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table the accounts app created; the model moved here without moving any data.
        db_table = "accounts_connectiongrant"
        constraints = [models.UniqueConstraint(fields=["user", "connection"], name="one_grant_per_connection")]

    def __str__(self) -> str:
        return f"{self.user} on {self.connection} as {self.role}"
