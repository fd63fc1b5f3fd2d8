"""Response maps for operations: the success schema plus the problems an operation can answer."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Path

from accounts.models import Role
from api.schemas import Problem

CLIENT_ERRORS = (400, 401, 403, 404, 429)


def answers(ok: Any, *, status: int = 200, extra: tuple[int, ...] = ()) -> dict[int, Any]:
    """`{status: ok}` and a Problem for each client error (and `extra`: 409, 502 ...)."""
    found: dict[int, Any] = {status: ok}
    for code in (*CLIENT_ERRORS, *extra):
        found[code] = Problem
    return found


def needs(role: Role) -> dict[str, Any]:
    """The OpenAPI extension that names the least role an operation needs (read by the role-walk tests)."""
    return {"x-dbdeck-role": str(role.value)}


ENGINE = (502,)  # a database server that failed or could not be reached answers 502, as the pages do


# A database id in a path: what `<id:pk>` matches (config/converters.py), so the schema says the same.
ID = Annotated[int, Path(ge=0, le=2**63 - 1)]
