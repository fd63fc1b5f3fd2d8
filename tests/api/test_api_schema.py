"""The API as clients see it: a valid OpenAPI document, and schemathesis against the live app.

Schemathesis loads /api/v1/openapi.json through the WSGI app (in process, on the test
database) and sends generated requests to every operation with each person's token and
with none, against Acme's connections on the real servers. Every answer must be documented
(status, content type, body schema), nothing may answer 5xx, and nothing may succeed for
someone whose role is below the operation's `x-dbdeck-role`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from backups.models import BackupPlan
from connections.models import Connection
from tests.api.conftest import PG_SCHEMA, PG_TABLE, REDIS_DB
from tests.api.objects import make
from tests.fixtures import People, client_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 2
BUDGET_S = 60
# Each person's role on Acme's connections, and their best team role (for operations on no connection).
ON_ACME = {"alice": Role.ADMIN, "bob": Role.EDITOR, "carol": Role.VIEWER, "charlie": None, "anonymous": None}
BEST = {"alice": Role.ADMIN, "bob": Role.EDITOR, "carol": Role.VIEWER, "charlie": Role.ADMIN, "anonymous": None}


def test_the_openapi_document_is_valid_and_every_operation_names_its_role(people: People) -> None:
    response = client_for(None).get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) >= 18
    for operation in operations:
        assert operation["x-dbdeck-role"] in ("viewer", "editor", "admin"), operation["operationId"]
        assert operation["security"], operation["operationId"]
        for status, answer in operation["responses"].items():
            if status[0] in "45":
                assert list(answer["content"]) == ["application/problem+json"], (operation["operationId"], status)


def _target(path: str, conns: dict[str, Connection]) -> Connection:
    if "/keys" in path or "/key" in path:
        return conns["redis"]
    if "/bucket" in path:
        return conns["s3"]
    if path.endswith("/{pk}") or path == "/api/v1/connections/{pk}":
        return conns["scratch"]  # PATCH and DELETE change it; the servers' connections stay as they are
    return conns["pg"]


def _aim(path: str, bucket: str) -> dict[str, Any]:
    if "/key" in path:
        return {"ns": str(REDIS_DB), "key": "profile", "prefix": "user:"}
    if "/bucket" in path:
        return {"ns": bucket, "key": "top <x>.bin", "prefix": "reports/"}
    plain = {
        "after": "",
        "before": "",
        "sort": "",
        "fc": [],
        "fo": [],
        "fv": [],
        "col": [],
        "filters": [],
        "columns": [],
    }
    return {"ns": PG_SCHEMA, "obj": PG_TABLE, **plain}


@pytest.fixture
def connections_kept_open() -> Iterator[None]:
    """What Django's test client does around each request: the WSGI app must not close the test's connection.

    Requests end with `close_old_connections`, which closes a connection inside a transaction;
    the test's data lives in one, so the next request would meet a closed database.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_schemathesis_finds_no_server_error_no_undocumented_answer_and_no_role_overreach(
    connections_kept_open: None,
    acme_pg: Connection,
    acme_redis: Connection,
    acme_s3: Connection,
    bucket: str,
    acme_sqlite: Connection,
    people: People,
    tokens: dict[str, str],
    settings: Any,
) -> None:
    settings.DBDECK_API_RATE_LIMIT = 100_000
    scratch = Connection.objects.create(
        team=people.acme, name="scratch", engine="sqlite", database=acme_sqlite.database, production=True
    )
    conns = {"pg": acme_pg, "redis": acme_redis, "s3": acme_s3, "scratch": scratch}
    objects = make(acme_pg, people, owner=people.carol)
    # DELETE of a plan aims at a plan of its own, so the other plan operations still find theirs.
    doomed = BackupPlan.objects.create(
        connection=acme_pg, name="doomed", destination=BackupPlan.objects.get(pk=objects.plan).destination
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    identities = {**{who: {"Authorization": f"Bearer {secret}"} for who, secret in tokens.items()}, "anonymous": {}}
    started = time.monotonic()
    calls: list[str] = []
    overreach: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        need = Role(operation.definition.raw["x-dbdeck-role"])
        on_path = "{pk}" in operation.path
        paths = objects.path_ids(operation.path)
        if not operation.path.startswith(("/api/v1/backups/", "/api/v1/index-jobs/")):
            paths["pk"] = _target(operation.path, conns).pk
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/backups/plans/{pk}":
            paths["pk"] = doomed.pk
        for who, headers in identities.items():
            role = (ON_ACME if on_path else BEST)[who]
            allowed = role is not None and role.allows(need)
            _exercise(operation, who, headers, paths, _aim(operation.path, bucket), allowed, calls, overreach)
    print(f"\nschemathesis: {len(calls)} calls in {time.monotonic() - started:.1f} s")
    assert not overreach, overreach
    elapsed = time.monotonic() - started
    assert len(calls) > 150
    assert elapsed < BUDGET_S, f"{len(calls)} calls took {elapsed:.0f} s"
    assert Connection.objects.filter(pk=acme_pg.pk, name="warehouse").exists()


def _exercise(
    operation: Any,
    who: str,
    headers: dict[str, str],
    paths: dict[str, Any],
    aim: dict[str, Any],
    allowed: bool,
    calls: list[str],
    overreach: list[str],
) -> None:
    """A few generated requests to one operation as one person; path ids point at real objects."""

    @given(case=operation.as_strategy())
    @hsettings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for name in case.path_parameters or {}:
            case.path_parameters[name] = paths[name]
        # Every other request names a real table, key or bucket, so pages of data are fetched too.
        if len(calls) % 2 == 0:
            for part in (case.query, case.body):
                if isinstance(part, dict):
                    part.update({k: v for k, v in aim.items() if k in part or k in ("ns", "obj")})
        response = case.call(headers=headers)
        calls.append(f"{who}: {case.method} {case.formatted_path} -> {response.status_code}")
        case.validate_response(response, checks=CHECKS, headers=headers)
        if 200 <= response.status_code < 300 and not allowed:
            overreach.append(calls[-1])
        if who == "anonymous":
            assert response.status_code == 401, calls[-1]

    run()


@pytest.mark.parametrize("path", ["/api/v1/nothing/here", "/api/v1/connections/99999999999999999999"])
def test_paths_that_name_nothing_answer_404_as_problems(path: str, people: People) -> None:
    response = client_for(people.alice).get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == 404


def test_no_two_response_models_share_a_name() -> None:
    """OpenAPI components are keyed by model name: two models of one name would document one answer wrongly."""
    import api.v1  # noqa: F401  (imports every route module)
    from api.schemas import Out

    def every(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *every(sub))]

    names = [c.__name__ for c in every(Out)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
