from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Team
from connections.models import ENGINE_OPTIONS, Connection, Engine, TlsMode

# Which engines use a field; the form hides the others with a little JS and the
# labels say it anyway, so the page works without JavaScript.
FIELD_ENGINES: dict[str, tuple[str, ...]] = {
    "host": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "port": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "username": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "secret": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "tls_mode": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "readonly_username": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "readonly_secret": ("postgresql", "mysql", "mongodb", "redis", "s3"),
    "auth_source": ("mongodb",),
    "replica_set": ("mongodb",),
    "region": ("s3",),
    "addressing_style": ("s3",),
}


class ConnectionForm(forms.ModelForm):
    secret = forms.CharField(
        label="Password / secret key",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the saved one.",
    )
    clear_secret = forms.BooleanField(label="Remove the saved password", required=False)
    readonly_secret = forms.CharField(
        label="Read-only password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Optional second credential used for viewers. Write-only.",
    )
    tls_mode = forms.ChoiceField(label="TLS", choices=TlsMode.choices, initial=TlsMode.PREFER)
    connect_timeout = forms.FloatField(label="Connect timeout (s)", min_value=0.5, max_value=60, initial=5)
    statement_timeout = forms.FloatField(label="Statement timeout (s)", min_value=0.5, max_value=3600, initial=30)
    auth_source = forms.CharField(label="Auth database (MongoDB)", required=False, max_length=64)
    replica_set = forms.CharField(label="Replica set (MongoDB)", required=False, max_length=64)
    region = forms.CharField(label="Region (S3)", required=False, max_length=32, initial="us-east-1")
    addressing_style = forms.ChoiceField(
        label="Addressing (S3)",
        required=False,
        choices=[("path", "Path style"), ("virtual", "Virtual host")],
        initial="path",
    )

    class Meta:
        model = Connection
        # No team: a connection changes team only through its Move page (Connection.move_to).
        fields = ["name", "engine", "host", "port", "database", "username", "production", "readonly_username"]
        labels = {"username": "User / access key", "readonly_username": "Read-only user", "production": "Production"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engine"].choices = Engine.choices
        opts = self.instance.options or {}
        for key in ("tls_mode", "connect_timeout", "statement_timeout", *sum(ENGINE_OPTIONS.values(), ())):
            if key in opts and key in self.fields:
                self.initial[key] = opts[key]
        for name, field in self.fields.items():
            engines = FIELD_ENGINES.get(name)
            if engines:
                field.widget.attrs["data-engines"] = " ".join(engines)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError("The name may not contain a NUL byte.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        engine = data.get("engine", "")
        options: dict[str, Any] = {
            "tls_mode": data.get("tls_mode") or TlsMode.PREFER,
            "connect_timeout": data.get("connect_timeout") or 5,
            "statement_timeout": data.get("statement_timeout") or 30,
        }
        for key in ENGINE_OPTIONS.get(engine, ()):
            if data.get(key) not in (None, ""):
                options[key] = data[key]
        self.instance.options = options
        return data

    def save(self, commit: bool = True) -> Connection:
        connection: Connection = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            connection.secret_token = ""
        if self.cleaned_data.get("secret"):
            connection.set_secret(self.cleaned_data["secret"])
        if not connection.readonly_username:
            connection.readonly_secret_token = ""
        elif self.cleaned_data.get("readonly_secret"):
            connection.set_readonly_secret(self.cleaned_data["readonly_secret"])
        if commit:
            connection.save()
        return connection

    def changes(self) -> dict[str, Any]:
        """What changed, for the audit trail; secrets only as 'changed'."""
        changed: dict[str, Any] = {}
        for name in self.changed_data:
            if name in ("secret", "readonly_secret", "clear_secret"):
                if self.cleaned_data.get(name):
                    changed[name] = "changed"
                continue
            value = self.cleaned_data.get(name)
            changed[name] = str(value) if value is not None else None
        return changed


class NewConnectionForm(ConnectionForm):
    """Adding a connection: the one time its team is chosen, among the teams the user administers."""

    class Meta(ConnectionForm.Meta):
        fields = ["team", *ConnectionForm.Meta.fields]

    def __init__(self, *args: Any, teams: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "team" in self.fields:
            self.fields["team"].queryset = teams if teams is not None else Team.objects.none()
            self.fields["team"].empty_label = None
            self.order_fields(["team"])


class MoveConnectionForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None, label="Move to team")
    confirm = forms.CharField(label="Type the connection's name to confirm", required=False, strip=False)

    def __init__(self, *args: Any, connection: Connection, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.fields["team"].queryset = teams.exclude(pk=connection.team_id)

    def clean_confirm(self) -> str:
        typed: str = self.cleaned_data.get("confirm", "")
        if typed != self.connection.name:
            raise forms.ValidationError("Type the connection's exact name to move it.")
        return typed


class DeleteConnectionForm(forms.Form):
    confirm = forms.CharField(label="Type the connection's name to confirm", required=False)

    def __init__(self, *args: Any, connection: Connection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection

    def clean_confirm(self) -> str:
        typed: str = self.cleaned_data.get("confirm", "")
        if self.connection.production and typed != self.connection.name:
            raise forms.ValidationError("This is a production connection: type its exact name to delete it.")
        return typed


class GrantForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[("", "Team role (remove grant)")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts.models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "Team role (remove grant)"), *Role.choices]
        self.fields["role"].required = False
