from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Team
from connections import engines
from connections.engines.base import Adapter, Option
from connections.models import Connection, TlsMode

# The form's fields behind each connection setting an engine may use (Adapter.form_fields).
SETTING_FIELDS: dict[str, tuple[str, ...]] = {
    "host": ("host",),
    "port": ("port",),
    "database": ("database",),
    "username": ("username", "readonly_username"),
    "password": ("secret", "clear_secret", "readonly_secret"),
    "tls_mode": ("tls_mode",),
}


def form_options() -> list[Option]:
    """Every engine's form options, once each, in registry order."""
    seen: dict[str, Option] = {}
    for cls in engines.adapter_classes():
        for option in cls.options:
            if option.in_form:
                seen.setdefault(option.name, option)
    return list(seen.values())


def _fields_of(cls: type[Adapter]) -> list[str]:
    used = [name for setting in cls.form_fields for name in SETTING_FIELDS[setting]]
    return used + [option.name for option in cls.options if option.in_form]


def _option_field(option: Option) -> forms.Field:
    if option.choices:
        return forms.ChoiceField(label=option.label, required=False, choices=option.choices, initial=option.initial)
    return forms.CharField(
        label=option.label, required=False, max_length=option.max_length, initial=option.initial or None
    )


class EngineOptionFields:
    """The engines' own settings (Adapter.options) as declared fields, so a new engine needs no change here.

    Declared when this module is imported (which imports every adapter), because the
    admin builds its form class from declared fields.
    """

    declared_fields = {option.name: _option_field(option) for option in form_options()}


OPTION_FIELDS = tuple(EngineOptionFields.declared_fields)


class ConnectionForm(EngineOptionFields, forms.ModelForm):
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

    class Meta:
        model = Connection
        # No team: a connection changes team only through its Move page (Connection.move_to).
        fields = ["name", "engine", "host", "port", "database", "username", "production", "readonly_username"]
        labels = {"username": "User / access key", "readonly_username": "Read-only user", "production": "Production"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name not in OPTION_FIELDS])  # engine options last
        self.fields["engine"].choices = engines.choices()
        engine = self.instance.engine or self.initial.get("engine", "")
        if engine in engines.ENGINES:
            cls = engines.adapter_class(engine)
            self.initial.setdefault("tls_mode", cls.default_tls)
            if cls.default_port:
                self.fields["port"].widget.attrs["placeholder"] = str(cls.default_port)
        opts = self.instance.options or {}
        for key in ("tls_mode", "connect_timeout", "statement_timeout", *OPTION_FIELDS):
            if key in opts and key in self.fields:
                self.initial[key] = opts[key]

    def engine_forms(self) -> dict[str, Any]:
        """What the page script needs to show each engine's fields and labels (rendered with json_script)."""
        described = {
            cls.engine: {
                "fields": _fields_of(cls),
                # A setting's label names its first form field ("password" labels `secret`).
                "labels": {SETTING_FIELDS[setting][0]: label for setting, label in cls.form_labels.items()},
                "default_port": cls.default_port,
                "default_tls": cls.default_tls,
            }
            for cls in engines.adapter_classes()
        }
        relabelled = sorted({name for engine in described.values() for name in engine["labels"]})
        managed = {name for names in SETTING_FIELDS.values() for name in names} | set(OPTION_FIELDS)
        return {
            "fields": sorted(name for name in managed if name in self.fields),
            "labels": {name: str(self.fields[name].label) for name in relabelled if name in self.fields},
            "engines": described,
        }

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError("The name may not contain a NUL byte.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        engine = data.get("engine", "")
        cls = engines.adapter_class(engine) if engine in engines.ENGINES else None
        options: dict[str, Any] = {
            "tls_mode": data.get("tls_mode") or (cls.default_tls if cls else TlsMode.PREFER),
            "connect_timeout": data.get("connect_timeout") or 5,
            "statement_timeout": data.get("statement_timeout") or 30,
        }
        for key in cls.option_names() if cls else ():
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
