"""What every explorer view shares: opening the engine for a role, errors, confirmation."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import get_connection_for
from accounts.models import Role
from config.headers import same_origin_referrer
from connections.engines import Adapter, EngineError
from connections.engines.base import Capability
from connections.models import Connection
from explorer import pool
from explorer.numbers import BadNumber

log = logging.getLogger(__name__)
STATUS_FOR_KIND = {"config": 400, "permission": 403, "database": 404}


class ConfirmationNeeded(Exception):
    """A write on a production connection without the typed confirmation."""


def role_of(connection: Connection) -> Role:
    return connection.role  # type: ignore[attr-defined,no-any-return]


def can_write(connection: Connection) -> bool:
    return role_of(connection).allows(Role.EDITOR)


@contextmanager
def engine(connection: Connection) -> Iterator[Adapter]:
    """An adapter for the connection; viewers get the read-only credential and session."""
    with pool.checkout(connection, read_only=not can_write(connection)) as adapter:
        yield adapter


C = TypeVar("C", bound=Capability)


def require(adapter: Adapter, capability: type[C]) -> C:
    """The adapter's capability; a page meant for another engine family gets a message instead of a crash."""
    found = adapter.get(capability)
    if found is None:
        raise EngineError(
            f"{adapter.display_name} has no {capability.noun}; open it from its own browse page.", "config"
        )
    return found


def require_confirmation(request: HttpRequest, connection: Connection) -> None:
    if connection.production and request.POST.get("confirm", "") != connection.name:
        raise ConfirmationNeeded(
            f"“{connection.name}” is a production connection: type its name to confirm this change."
        )


def explorer_view(need: Role = Role.VIEWER) -> Callable[..., Callable[..., HttpResponse]]:
    """Look up the connection through the permission helper and turn engine errors into pages."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            connection = get_connection_for(request.user, pk, need=need)
            try:
                return view(request, connection, *args, **kwargs)
            except EngineError as exc:
                return error_page(request, connection, exc.message, STATUS_FOR_KIND.get(exc.kind, 502))
            except ConfirmationNeeded as exc:
                return error_page(request, connection, str(exc), 400)
            except ValidationError as exc:
                return error_page(request, connection, " ".join(exc.messages), 400)
            except BadNumber as exc:
                return error_page(request, connection, str(exc), 400)

        return wrapper

    return decorate


def error_page(request: HttpRequest, connection: Connection, message: str, status: int) -> HttpResponse:
    ctx = {"connection": connection, "message": message, "back": same_origin_referrer(request)}
    template = "explorer/error.html#message" if request.htmx else "explorer/error.html"
    return render(request, template, ctx, status=status)
