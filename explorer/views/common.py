"""What every explorer view shares: opening the engine for a role, and errors as pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from config.headers import same_origin_referrer
from connections.access import Access, get_connection_for
from connections.engines import Adapter, EngineError
from connections.engines.base import Capability
from connections.models import Connection
from explorer import pool

log = logging.getLogger(__name__)
STATUS_FOR_KIND = {"config": 400, "permission": 403, "database": 404}


@contextmanager
def engine(access: Access) -> Iterator[Adapter]:
    """An adapter for the connection; viewers get the read-only credential and session."""
    with pool.checkout(access.connection, read_only=not access.can_write) as adapter:
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


def explorer_view(need: Role = Role.VIEWER) -> Callable[..., Callable[..., HttpResponse]]:
    """Look up the connection and role through the permission helper; turn refusals into pages.

    The view is called as `view(request, access, ...)`. An access error propagates (404 / 403);
    an engine error answers by its kind, a form that did not validate (ValidationError) with 400.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            access = get_connection_for(request.user, pk, need=need)
            connection = access.connection
            try:
                return view(request, access, *args, **kwargs)
            except EngineError as exc:
                return error_page(request, connection, exc.message, STATUS_FOR_KIND.get(exc.kind, 502))
            except ValidationError as exc:
                return error_page(request, connection, " ".join(exc.messages), 400)

        return wrapper

    return decorate


def error_page(request: HttpRequest, connection: Connection, message: str, status: int) -> HttpResponse:
    ctx = {"connection": connection, "message": message, "back": same_origin_referrer(request)}
    template = "explorer/error.html#message" if request.htmx else "explorer/error.html"
    return render(request, template, ctx, status=status)
