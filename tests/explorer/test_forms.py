"""Every explorer parameter goes through a form: good input works, bad input is a 400 that says what is wrong."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.urls import reverse

from connections.engines import cursor
from connections.models import Connection
from explorer.forms import MAX_FILTERS, GridForm, RowValuesForm
from explorer.models import Export
from tests.fixtures import People, client_for


@pytest.fixture
def numbers_db(acme_sqlite_dir: Path, people: People) -> Connection:
    path = acme_sqlite_dir / "numbers.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, label TEXT)")
        db.executemany("INSERT INTO n (id, label) VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 121)])
    return Connection.objects.create(team=people.acme, name="numbers", engine="sqlite", database=str(path))


def grid(conn: Connection, **query: object) -> str:
    return reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": "main", "obj": "n", **query}, doseq=True)


def form_for(**query: object) -> GridForm:
    return GridForm(QueryDict(urlencode(query, doseq=True)))


def test_the_grid_form_turns_the_query_string_into_a_page_request() -> None:
    token = cursor.encode([5])
    form = form_for(
        ns="main",
        obj="n",
        after=token,
        sort="label",
        desc="1",
        limit="25",
        col=["id", "label"],
        fc=["label", ""],
        fo=["startswith", "eq"],
        fv=["n1", ""],
    )
    preq = form.valid().page_request()
    assert (preq.cursor, preq.direction, preq.sort, preq.descending, preq.limit) == (token, "next", "label", True, 25)
    assert [(f.column, f.op, f.value) for f in preq.filters] == [("label", "startswith", "n1")]
    assert preq.columns == ("id", "label")
    assert form_for().valid().cleaned_data["ns"] is None  # "not given" differs from "empty"
    assert form_for(ns="").valid().cleaned_data["ns"] == ""


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"fc": "label", "fo": "like", "fv": "x"}, "Choose a filter operator"),
        ({"desc": "yes"}, "desc=1"),
        ({"limit": "0"}, "page size must be between 1 and 500"),
        ({"limit": "501"}, "page size must be between 1 and 500"),
        ({"limit": "١٢"}, "digits 0-9"),
        ({"after": cursor.encode({"id": 1})}, "start again from the first page"),
        ({"fc": ["label"] * 21, "fo": ["eq"] * 21, "fv": ["x"] * 21}, f"At most {MAX_FILTERS} filters"),
        ({"fc": ["label"] * (MAX_FILTERS + 2)}, "At most 21 filter column values"),
        ({"sort": "x" * 10_001}, "sort column is longer than 10,000 characters"),
    ],
)
def test_bad_grid_state_answers_400_naming_the_problem(
    query: dict[str, object], message: str, numbers_db: Connection, people: People
) -> None:
    response = client_for(people.carol).get(grid(numbers_db, **query))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_page_size_is_part_of_the_grid_state(numbers_db: Connection, people: People) -> None:
    client = client_for(people.carol)
    first = client.get(grid(numbers_db, limit="25"))
    assert first.status_code == 200 and len(first.context["rows"]) == 25
    assert "limit=25" in first.context["next_url"]
    second = client.get(reverse("explorer:browse", args=[numbers_db.pk]) + first.context["next_url"])
    assert [row["cells"][0] for row in second.context["rows"]] == list(range(26, 51))


def test_an_export_with_an_unknown_format_answers_400_on_its_form(numbers_db: Connection, people: People) -> None:
    url = reverse("explorer:export", args=[numbers_db.pk]) + "?ns=main&obj=n"
    client = client_for(people.carol)
    for data, message in [
        ({"format": "exe"}, "Choose CSV, JSON lines or (for SQL engines) INSERT statements."),
        ({"format": "csv", "csv_mode": "formulas"}, "Choose neutralised or raw CSV cells."),
        ({"format": "csv", "max_rows": "1e3"}, "digits 0-9"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400 and message in response.content.decode(), data
        assert response.context["form"].errors
    assert not Export.objects.exists()


def test_an_export_without_a_table_answers_400(numbers_db: Connection, people: People) -> None:
    response = client_for(people.carol).get(reverse("explorer:export", args=[numbers_db.pk]) + "?ns=main")
    assert response.status_code == 400 and "Choose a table or collection first." in response.content.decode()


def test_row_pages_without_a_table_or_key_answer_400(numbers_db: Connection, people: People) -> None:
    client = client_for(people.bob)
    record = reverse("explorer:record", args=[numbers_db.pk])
    response = client.get(record + "?ns=main&obj=n")
    assert response.status_code == 400 and "does not name a row" in response.content.decode()
    response = client.get(record + "?" + urlencode({"ns": "main", "key": cursor.encode({"id": 1})}))
    assert response.status_code == 400 and "Choose a table or collection first." in response.content.decode()
    response = client.post(reverse("explorer:record_new", args=[numbers_db.pk]) + "?ns=main", {"v:label": "x"})
    assert response.status_code == 400
    assert sqlite3.connect(numbers_db.database).execute("SELECT count(*) FROM n").fetchone() == (120,)


def test_the_row_form_sends_only_what_was_sent_and_null_when_ticked(numbers_db: Connection, people: People) -> None:
    from connections.engines.browse import Column, TableInfo

    columns = [Column(name=n, type="text") for n in ("id", "label", "note")]
    info = TableInfo(namespace="main", name="n", kind="table", columns=columns, key=("id",), key_kind="primary")
    data = QueryDict("v:label=x&null:note=on")
    form = RowValuesForm(data, connection=numbers_db, info=info).valid()
    assert form.values() == {"label": "x", "note": None}
    new = RowValuesForm(QueryDict("v:id=&v:label=&empty:label=on"), connection=numbers_db, info=info, new=True)
    assert new.valid().values() == {"label": ""}  # empty id = the default; empty label asked for as ""


def test_a_production_write_without_the_typed_name_is_refused_by_the_form(
    numbers_db: Connection, people: People
) -> None:
    numbers_db.production = True
    numbers_db.save()
    url = reverse("explorer:record_delete", args=[numbers_db.pk]) + "?ns=main&obj=n"
    response = client_for(people.bob).post(url, {"key": cursor.encode({"id": 1}), "confirm": "Numbers"})
    assert response.status_code == 400 and "type its name to confirm" in response.content.decode()
    assert sqlite3.connect(numbers_db.database).execute("SELECT count(*) FROM n").fetchone() == (120,)
