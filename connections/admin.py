from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.record import record
from connections.forms import OPTION_FIELDS, NewConnectionForm
from connections.models import Connection, ConnectionGrant


class AdminConnectionForm(NewConnectionForm):
    """The app's own form, so the admin also treats secrets as write-only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts.models import Team

        kwargs.setdefault("teams", Team.objects.all())
        super().__init__(*args, **kwargs)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = AdminConnectionForm
    list_display = ["name", "team", "engine", "host", "production", "last_check_ok"]
    list_filter = ["engine", "production", "team"]
    search_fields = ["name", "host"]
    readonly_fields = ["last_check_ok", "last_check_message", "last_check_at", "created_by"]
    fieldsets = [
        (None, {"fields": ["team", "name", "engine", "production"]}),
        ("Target", {"fields": ["host", "port", "database", "username", "secret", "clear_secret"]}),
        # Each engine's own options follow the common ones (Adapter.options).
        ("Options", {"fields": ["tls_mode", "connect_timeout", "statement_timeout", *OPTION_FIELDS]}),
        ("Read-only credential", {"fields": ["readonly_username", "readonly_secret"]}),
        ("Last check", {"fields": ["last_check_ok", "last_check_message", "last_check_at", "created_by"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Connection | None = None) -> Any:
        # The team is chosen once; moving goes through the app's Move page (both teams' admins).
        return [*self.readonly_fields, "team"] if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Connection, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        action = "connection.update" if change else "connection.create"
        record(action, request=request, connection=obj, target=obj.name, changes=form.changes(), via="admin")

    def delete_model(self, request: HttpRequest, obj: Connection) -> None:
        record("connection.delete", request=request, connection=obj, target=obj.name, via="admin")
        super().delete_model(request, obj)


@admin.register(ConnectionGrant)
class ConnectionGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "connection", "role"]
    list_filter = ["role"]

    def save_model(self, request: HttpRequest, obj: ConnectionGrant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record(
            "grant.set", request=request, connection=obj.connection, target=str(obj.user), role=obj.role, via="admin"
        )

    def delete_model(self, request: HttpRequest, obj: ConnectionGrant) -> None:
        record("grant.remove", request=request, connection=obj.connection, target=str(obj.user), via="admin")
        super().delete_model(request, obj)
