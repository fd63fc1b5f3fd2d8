"""CSV exports neutralise spreadsheet formulas in text cells by default; raw is an explicit choice."""

from __future__ import annotations

import csv
import io
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from explorer.export import FormulaGuard, csv_lines
from explorer.models import Export
from tests.fixtures import People, client_for

HOSTILE = ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"]
NORMAL = "plain text, with a comma"


@pytest.fixture
def cells_db(acme_sqlite_dir: Path, people: People) -> Connection:
    path = acme_sqlite_dir / "cells.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute('CREATE TABLE cells (id INTEGER PRIMARY KEY, "=label" TEXT, amount INTEGER, ratio REAL)')
        values = [*HOSTILE, NORMAL]
        db.executemany(
            'INSERT INTO cells (id, "=label", amount, ratio) VALUES (?, ?, ?, ?)',
            [(i + 1, v, -2 - i, -1.5 - i) for i, v in enumerate(values)],
        )
    return Connection.objects.create(team=people.acme, name="cells", engine="sqlite", database=str(path))


def export_csv(conn: Connection, people: People, capture: Any, **form: str) -> tuple[list[list[str]], str]:
    """Run the real export (form, task, file, download) and return the parsed CSV and the status page."""
    client = client_for(people.carol)
    start = reverse("explorer:export", args=[conn.pk]) + "?" + urlencode({"ns": "main", "obj": "cells"})
    with capture(execute=True):
        response = client.post(start, {"format": "csv", "max_rows": "1000", **form})
    assert response.status_code == 302
    status = client.get(response["Location"]).content.decode()
    assert "Done" in status, status[:2000]
    download = client.get(response["Location"] + "download/")
    text = b"".join(download.streaming_content).decode()
    return list(csv.reader(io.StringIO(text, newline=""))), status


def test_text_cells_that_start_a_formula_are_prefixed_with_a_quote_by_default(
    cells_db: Connection, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    rows, _ = export_csv(cells_db, people, django_capture_on_commit_callbacks)
    header, body = rows[0], rows[1:]
    assert header == ["id", "'=label", "amount", "ratio"]
    labels = [r[1] for r in body]
    assert labels == ["'" + v for v in HOSTILE] + [NORMAL]


def test_numbers_from_the_driver_are_never_prefixed_even_when_negative(
    cells_db: Connection, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    rows, _ = export_csv(cells_db, people, django_capture_on_commit_callbacks)
    body = rows[1:]
    assert [r[2] for r in body] == [str(-2 - i) for i in range(len(body))]
    assert [r[3] for r in body] == [str(-1.5 - i) for i in range(len(body))]


def test_raw_mode_writes_every_cell_unchanged(
    cells_db: Connection, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    rows, status = export_csv(cells_db, people, django_capture_on_commit_callbacks, csv_mode="raw")
    assert rows[0] == ["id", "=label", "amount", "ratio"]
    assert [r[1] for r in rows[1:]] == [*HOSTILE, NORMAL]
    assert "CSV, raw" in status


def test_the_status_page_and_the_audit_trail_name_the_mode_and_count(
    cells_db: Connection, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    _, status = export_csv(cells_db, people, django_capture_on_commit_callbacks)
    # Six hostile values plus the "=label" column name.
    assert "CSV, formulas neutralised (7 cells)" in status
    export = Export.objects.get()
    assert export.csv_raw is False and export.neutralised_cells == 7
    event = AuditEvent.objects.get(action="data.export")
    assert event.detail["mode"] == "CSV, formulas neutralised (7 cells)"
    assert event.detail["neutralised_cells"] == 7


def test_the_audit_trail_records_a_raw_export_as_raw(
    cells_db: Connection, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    export_csv(cells_db, people, django_capture_on_commit_callbacks, csv_mode="raw")
    assert AuditEvent.objects.get(action="data.export").detail["mode"] == "CSV, raw"
    assert Export.objects.get().csv_raw is True


def test_the_export_form_offers_raw_but_checks_neutralised(cells_db: Connection, people: People) -> None:
    url = reverse("explorer:export", args=[cells_db.pk]) + "?" + urlencode({"ns": "main", "obj": "cells"})
    body = client_for(people.carol).get(url).content.decode()
    assert 'name="csv_mode" value="neutralised" checked' in body
    assert 'name="csv_mode" value="raw">' in body


def test_decimals_and_bytes_follow_their_type_not_their_text() -> None:
    guard = FormulaGuard()
    rows = [[Decimal("-3.50"), b"=HYPERLINK()", -7, None, {"k": "=x"}]]
    text = b"".join(csv_lines(["a", "b", "c", "d", "e"], rows, guard)).decode()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[1] == ["-3.50", "'=HYPERLINK()", "-7", "", '{"k": "=x"}']
    assert guard.cells == 1
