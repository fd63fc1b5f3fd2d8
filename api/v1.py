"""The versioned JSON API, /api/v1/: django-ninja, OpenAPI 3 generated from the code."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from api import problems
from api.auth import AUTH
from api.problems import CONTENT_TYPE
from api.routes import audit, backups, browse, connections, console, exports, indexes, me, monitoring, plans

DESCRIPTION = """\
Everything the dbdeck pages do, for scripts and pipelines. Authenticate with a personal access
token (`Authorization: Bearer dbd_…`, made on your Tokens page) or, in a browser, with your session
(writes then need the `X-CSRFToken` header). A token acts as you, never above its role ceiling
and never above your own role at the moment of the call; a team-scoped token sees only that team.

Lists are cursor-paged: pass a response's `next_cursor` back as `cursor` (`after` / `before` for
table pages, `scan` for Redis keys, `token` for S3 listings). Errors are
`application/problem+json` with the message the page would show. Each token may make
DBDECK_API_RATE_LIMIT requests per DBDECK_API_RATE_WINDOW seconds (600 per 60 s by default);
past that the API answers 429 with `Retry-After`.
"""


class Docs(Swagger):
    """Swagger UI from the files django-ninja ships, in a page with nonce'd script tags (the strict CSP holds)."""

    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        return render(request, self.template, {"api": api, "swagger_settings": settings, "add_csrf": True})


class DbdeckAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Problems are `application/problem+json`, not the `application/json` django-ninja writes."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content") or {}
                    body = content.get("application/json", {}).get("schema", {})
                    if len(content) > 1 and body.get("format") == "binary":
                        del content["application/json"]  # a file download: its own types only
                    if str(status)[0] in "45" and "application/json" in content:
                        content[CONTENT_TYPE] = content.pop("application/json")
        return schema


api = DbdeckAPI(
    title="dbdeck API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    docs=Docs(),
    urls_namespace="api-1",
)
problems.install(api)
api.add_router("/me", me.router)
api.add_router("/connections", connections.router)
api.add_router("/connections", browse.router)
api.add_router("/connections", exports.router)
api.add_router("/connections", console.router)
api.add_router("/connections", plans.router)
api.add_router("/connections", monitoring.router)
api.add_router("/connections", indexes.router)
api.add_router("/index-jobs", indexes.jobs)
api.add_router("/backups", backups.router)
api.add_router("/audit", audit.router)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Paths under /api/v1/ that name nothing answer as the API does, not with the HTML 404 page."""
    return problems.problem(404, "No such API endpoint; /api/v1/docs lists them.")
