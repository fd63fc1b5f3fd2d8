"""Write audit events. Callers pass what changed; secrets must never be in `detail`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

MAX_VALUE_CHARS = 500


def _cut(value: Any) -> Any:
    """Keep audit rows small: long strings and big containers are shortened."""
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + f"… ({len(value)} chars)"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict):
        return {str(k): _cut(v) for k, v in list(value.items())[:100]}
    if isinstance(value, list | tuple):
        return [_cut(v) for v in value[:100]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _cut(str(value))  # dates, decimals, UUIDs, driver types: their text is what an auditor reads


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    team: Any = None,
    connection: Any = None,
    target: str = "",
    **detail: Any,
) -> AuditEvent:
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if team is None and connection is not None:
        team = connection.team
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=getattr(actor, "username", "") or "",
        team=team,
        connection=connection,
        action=action,
        target=target[:255],
        detail=_cut(detail),
        ip=ip or None,
    )
