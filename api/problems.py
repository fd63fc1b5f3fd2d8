"""Errors as `application/problem+json`, with the messages the pages show.

The statuses are the pages' own: access errors 404 / 403 (accounts.access), an engine
error by its kind (explorer.views.common.STATUS_FOR_KIND, 502 for a server that failed),
a form that did not validate 400, no credentials 401, too many requests 429.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as SchemaError

from accounts.access import AccessDenied
from connections.engines import EngineError
from explorer.views.common import STATUS_FOR_KIND

if TYPE_CHECKING:
    from ninja import NinjaAPI

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/problem+json"


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


class Conflict(Exception):
    """The request is fine but the object is not in a state for it (an export still running)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def problem(status: int, detail: str, *, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


def _schema_errors(exc: SchemaError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path"))
        errors.setdefault(where or "request", []).append(str(error.get("msg", "invalid")))
    detail = "; ".join(f"{where}: {' '.join(msgs)}" for where, msgs in errors.items())
    return problem(400, f"The request does not match the API: {detail}", errors=errors)


def form_errors(errors: dict[str, list[str]]) -> HttpResponse:
    """A Django form's errors (form.errors) as one 400."""
    detail = " ".join(
        message if field == "__all__" else f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages
    )
    return problem(400, detail, errors={field: list(messages) for field, messages in errors.items()})


def install(api: NinjaAPI) -> None:
    @api.exception_handler(AccessDenied)
    def access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
        return problem(404 if exc.not_found else 403, exc.message)

    @api.exception_handler(EngineError)
    def engine_error(request: HttpRequest, exc: EngineError) -> HttpResponse:
        return problem(STATUS_FOR_KIND.get(exc.kind, 502), exc.message)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return problem(400, " ".join(exc.messages))

    @api.exception_handler(BadRequest)
    def bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
        return problem(400, str(exc))

    @api.exception_handler(SchemaError)
    def schema_error(request: HttpRequest, exc: SchemaError) -> HttpResponse:
        return _schema_errors(exc)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            401,
            "Sign in, or send a personal access token as 'Authorization: Bearer dbd_…' (make one on your Tokens page).",
        )
        response["WWW-Authenticate"] = 'Bearer realm="dbdeck"'
        return response

    @api.exception_handler(AuthorizationError)
    def unauthorized(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return problem(403, str(exc) or "Forbidden.")

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem(403, str(exc) or "Forbidden.")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, str(exc) or "Not found.")

    @api.exception_handler(RateLimited)
    def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        response = problem(429, f"Too many requests with this token; try again in {exc.retry_after} s.")
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(Conflict)
    def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return problem(409, exc.message)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, str(exc))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API call %s %s failed", request.method, request.path)
        return problem(500, "The request failed unexpectedly; the server log has details.")
