"""Where access errors become HTTP answers: NotFound is a 404, Forbidden a 403."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponseBase

from accounts.access import AccessDenied


class AccessDeniedMiddleware:
    """Answer an AccessDenied raised by a view through Django's own 404 / 403 pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        if not isinstance(exception, AccessDenied):
            return None
        http = Http404(exception.message) if exception.not_found else PermissionDenied(exception.message)
        return response_for_exception(request, http)
