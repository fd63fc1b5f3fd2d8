"""Exports through the API: started with the grid's view, run by the export task, polled, downloaded."""

from __future__ import annotations

import csv
import io
from typing import Any

from audit.models import AuditEvent
from connections.models import Connection
from explorer.models import Export
from tests.api.conftest import PG_SCHEMA, PG_TABLE, bearer
from tests.fixtures import People

API = "/api/v1"


def test_an_export_of_a_filtered_view_runs_and_downloads(
    acme_pg: Connection, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    client = bearer(tokens["carol"])
    body = {
        "ns": PG_SCHEMA,
        "obj": PG_TABLE,
        "filters": [{"column": "id", "op": "lt", "value": "6"}],
        "columns": ["id", "name"],
        "format": "csv",
    }
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{API}/connections/{acme_pg.pk}/exports", body, content_type="application/json")
    assert started.status_code == 202, started.content
    status = client.get(f"{API}/connections/{acme_pg.pk}/exports/{started.json()['id']}").json()
    assert (status["status"], status["rows_written"]) == ("done", 5)
    download = client.get(status["download"])
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["id", "name"] and rows[1] == ["1", "'=1+1 <b>'\"`"] and len(rows) == 6
    assert AuditEvent.objects.filter(action="data.export", detail__rows=5).exists()


def test_an_unfinished_export_answers_409_on_download(acme_pg: Connection, tokens: dict[str, str]) -> None:
    client = bearer(tokens["carol"])
    started = client.post(
        f"{API}/connections/{acme_pg.pk}/exports", {"ns": PG_SCHEMA, "obj": PG_TABLE}, content_type="application/json"
    ).json()
    assert started["status"] == "queued" and started["download"] is None
    response = client.get(f"{API}/connections/{acme_pg.pk}/exports/{started['id']}/download")
    assert response.status_code == 409 and "queued" in response.json()["detail"]


def test_an_export_format_the_engine_lacks_is_refused(acme_redis: Connection, tokens: dict[str, str]) -> None:
    response = bearer(tokens["carol"]).post(
        f"{API}/connections/{acme_redis.pk}/exports", {"obj": "x"}, content_type="application/json"
    )
    assert response.status_code == 400 and "Redis has no tables or collections" in response.json()["detail"]
    assert not Export.objects.exists()


def test_a_bad_format_gets_the_forms_message(acme_pg: Connection, tokens: dict[str, str]) -> None:
    response = bearer(tokens["carol"]).post(
        f"{API}/connections/{acme_pg.pk}/exports",
        {"ns": PG_SCHEMA, "obj": PG_TABLE, "format": "xlsx"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Choose CSV, JSON lines or (for SQL engines) INSERT statements." in response.json()["detail"]


def test_someone_elses_export_is_404_even_on_the_same_team(
    acme_pg: Connection, people: People, tokens: dict[str, str]
) -> None:
    mine = bearer(tokens["carol"]).post(
        f"{API}/connections/{acme_pg.pk}/exports", {"ns": PG_SCHEMA, "obj": PG_TABLE}, content_type="application/json"
    )
    url = f"{API}/connections/{acme_pg.pk}/exports/{mine.json()['id']}"
    assert bearer(tokens["bob"]).get(url).status_code == 404
    assert bearer(tokens["charlie"]).get(url).status_code == 404
    listed = bearer(tokens["bob"]).get(f"{API}/connections/{acme_pg.pk}/exports").json()
    assert listed["items"] == []
