"""Plan and destination forms: plain Django forms that validate schedules, scopes and folders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from backups import schedule
from backups.models import STORE_ENGINES, BackupPlan, Destination, DestinationKind
from connections.engines import adapter_class
from connections.engines.capabilities import Backup


def _lines(text: str, label: str) -> list[str]:
    out = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in out:
        if "\x00" in line or len(line) > 500:
            raise ValidationError(f"{label}: a line may not contain NUL or be longer than 500 characters.")
    return out


class PlanForm(forms.ModelForm):
    namespaces = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Schemas or databases, one a line."
    )
    objects = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Tables or collections as ns.name."
    )
    patterns = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Redis key patterns or S3 prefixes."
    )
    verify = forms.CharField(
        required=False,
        label="Verification queries",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line: a read-only query, then => and the expected first value.",
    )

    class Meta:
        model = BackupPlan
        fields = [
            "connection",
            "name",
            "cron",
            "timezone",
            "destination",
            "compression_level",
            "encrypt",
            "keep_last",
            "keep_daily",
            "keep_weekly",
            "keep_monthly",
            "restore_test_cron",
            "sandbox",
            "restore_window_hours",
            "alert_emails",
            "alert_webhook",
            "enabled",
        ]

    def __init__(self, *args: Any, connections: Any, destinations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = connections
        self.fields["destination"].queryset = destinations
        self.fields["sandbox"].queryset = connections.filter(production=False)
        self.fields[
            "sandbox"
        ].help_text = "Restore-tests into this connection (never production) instead of a private server."
        self.fields["cron"].help_text = "minute hour day month weekday, e.g. 0 3 * * *"
        self.fields["restore_test_cron"].help_text = "When to restore-test the newest backup (empty: only by hand)."
        if self.instance.pk:
            scope = self.instance.scope or {}
            for key in ("namespaces", "objects", "patterns"):
                self.initial[key] = "\n".join(scope.get(key, []))
            self.initial["verify"] = "\n".join(f"{q['query']} => {q['expected']}" for q in self.instance.verify_queries)

    def clean_compression_level(self) -> int:
        level = self.cleaned_data["compression_level"]
        if not 1 <= level <= 19:
            raise ValidationError("zstd levels run from 1 to 19.")
        return level

    def clean_connection(self) -> Any:
        connection = self.cleaned_data["connection"]
        if connection is not None and not connection.adapter_cls.has(Backup):
            raise ValidationError(f"{connection.adapter_cls.display_name} has no backups yet.")
        return connection

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field in ("cron", "restore_test_cron"):
            if data.get(field):
                try:
                    schedule.check(data[field], data.get("timezone") or "UTC")
                except schedule.ScheduleError as exc:
                    self.add_error(field if "cron" in str(exc) else "timezone", str(exc))
        connection, destination = data.get("connection"), data.get("destination")
        if connection and destination and connection.team_id != destination.team_id:
            self.add_error("destination", "The destination belongs to another team.")
        sandbox = data.get("sandbox")
        if sandbox and connection and (sandbox.engine != connection.engine or sandbox.team_id != connection.team_id):
            self.add_error("sandbox", "The sandbox must be a connection of the same team and engine.")
        if sandbox and connection and sandbox.pk == connection.pk:
            self.add_error("sandbox", "A plan cannot restore-test into the connection it backs up.")
        try:
            data["scope"] = {k: _lines(data.get(k, ""), k) for k in ("namespaces", "objects", "patterns")}
            verify = []
            for line in _lines(data.get("verify", ""), "Verification queries"):
                query, sep, expected = line.rpartition("=>")
                if not sep or not query.strip():
                    raise ValidationError("Write each verification query as: query => expected value")
                verify.append({"query": query.strip(), "expected": expected.strip()})
            data["verify_queries"] = verify
        except ValidationError as exc:
            self.add_error(None, exc)
        return data

    def save(self, commit: bool = True) -> BackupPlan:
        plan = super().save(commit=False)
        plan.scope = self.cleaned_data["scope"]
        plan.verify_queries = self.cleaned_data["verify_queries"]
        if commit:
            plan.save()
        return plan


def save_plan(form: PlanForm, plan: BackupPlan | None, request: Any, **via: Any) -> BackupPlan:
    """Save a valid plan form (created by the requester when new) and audit it: the page and the API both."""
    from audit.record import record

    saved = form.save(commit=False)
    if plan is None:
        saved.created_by = request.user
    saved.save()
    record(
        "backup.plan_" + ("edit" if plan else "create"),
        request=request,
        connection=saved.connection,
        target=saved.name,
        cron=saved.cron,
        destination=saved.destination.name,
        encrypt=saved.encrypt,
        **via,
    )
    return saved


class DestinationForm(forms.ModelForm):
    class Meta:
        model = Destination
        fields = ["team", "name", "kind", "folder", "s3_connection", "bucket", "prefix"]

    def __init__(self, *args: Any, teams: Any, s3_connections: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["s3_connection"].queryset = s3_connections
        self.fields["s3_connection"].help_text = (
            "An S3, Cloud Storage or Azure connection matching the kind; its credentials are used at each run, "
            "never copied."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field in ("name", "folder", "bucket", "prefix"):
            if "\x00" in (data.get(field) or ""):
                self.add_error(field, "NUL is not allowed here.")
        folder = data.get("folder") or ""
        if folder.startswith("/") or ".." in folder.split("/"):
            self.add_error("folder", "A sub-folder of the backup root: no leading / and no '..'.")
        engine = STORE_ENGINES.get(data.get("kind"))
        if engine:
            kind = DestinationKind(data["kind"]).label.split(" (")[0]
            conn = data.get("s3_connection")
            if conn is None:
                self.add_error("s3_connection", "Choose the connection to write through.")
            elif conn.engine != engine:
                self.add_error(
                    "s3_connection",
                    f"A {kind} destination writes through a {adapter_class(engine).display_name} connection.",
                )
            elif data.get("team") and conn.team_id != data["team"].pk:
                self.add_error("s3_connection", "That connection belongs to another team.")
            if not data.get("bucket"):
                self.add_error("bucket", "Name the container." if engine == "azure" else "Name the bucket.")
        return data


class ConfirmForm(forms.Form):
    """Typed confirmation for a manual restore: the target's name, and on production the word too."""

    confirm = forms.CharField(max_length=200, required=False)
    confirm_production = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, expected: str, production: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected, self.production = expected, production

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("confirm") != self.expected:
            self.add_error("confirm", f"Type the target's name ({self.expected}) to confirm.")
        if self.production and data.get("confirm_production") != "restore over production":
            self.add_error("confirm_production", "This target is production: type “restore over production”.")
        return data
