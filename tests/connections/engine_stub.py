"""A seventh engine for the self-description tests: registered by monkeypatching ENGINES, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connections.engines.base import Adapter, ServerInfo


class StubAdapter(Adapter):
    engine = "stub"
    display_name = "Stub store"
    form_fields = ("host", "port", "database")
    form_labels = {"database": "Shelf"}
    default_port = 4242
    default_tls = "require"

    @classmethod
    def validate(cls, settings: Mapping[str, Any]) -> dict[str, str]:
        errors = super().validate(settings)
        if settings.get("database") == "forbidden":
            errors["database"] = "A stub shelf is never called forbidden."
        return errors

    def check(self) -> ServerInfo:
        return ServerInfo(version="Stub 1", latency_ms=0.0)
