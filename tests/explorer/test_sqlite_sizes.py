"""The navigator's Size column on SQLite: dbstat per table, cached per file version, a total without it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from connections.engines import open_adapter
from connections.engines.base import ConnectionParams
from connections.engines.browse import TableBrowsing
from connections.models import Connection
from tests import htmltree
from tests.fixtures import People, client_for

UNITS = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3}


@pytest.fixture
def shop(acme_sqlite_dir: Path) -> Path:
    path = acme_sqlite_dir / "sizes.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, note TEXT)")
        db.executemany("INSERT INTO small (note) VALUES (?)", [(f"note {i}",) for i in range(10)])
        db.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT, email TEXT UNIQUE)")
        rows = [(f"note {i} " * 20, f"u{i}@example.com") for i in range(20_000)]
        db.executemany("INSERT INTO big (note, email) VALUES (?, ?)", rows)
        db.execute("CREATE INDEX big_note ON big (note)")
        db.execute("CREATE VIEW big_view AS SELECT id FROM big")
        db.execute("ANALYZE")
    return path


def dbstat(path: Path) -> dict[str, int]:
    """Bytes per table and its indexes, read straight from the file."""
    db = sqlite3.connect(path)
    owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')"))
    sizes: dict[str, int] = {}
    for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
        sizes[owners.get(name, name)] = sizes.get(owners.get(name, name), 0) + size
    return sizes


def bytes_of(text: str) -> float:
    number, unit = text.split()
    return float(number.replace(",", "")) * UNITS[unit]


def navigator(people: People, conn: Connection) -> dict[str, tuple[htmltree.Node, ...]]:
    url = reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": "main"})
    response = client_for(people.carol).get(url)
    assert response.status_code == 200
    rows = htmltree.parse(response.content).find("table", "grid").find("tbody").find_all("tr")
    return {row.find_all("td")[0].text(): tuple(row.find_all("td")) for row in rows}


def test_the_navigator_shows_each_tables_size_with_its_indexes(shop: Path, people: People) -> None:
    conn = Connection.objects.create(team=people.acme, name="sizes", engine="sqlite", database=str(shop))
    rows = navigator(people, conn)
    expected = dbstat(shop)
    _, _, big_rows, big_size, _ = rows["big"]
    _, _, small_rows, small_size, _ = rows["small"]
    assert big_rows.text() == "20.0k" and small_rows.text() == "10"
    for cell in (big_rows, big_size, small_rows, small_size):
        assert "num" in cell.classes  # right-aligned by the stylesheet
    assert bytes_of(big_size.text()) == pytest.approx(expected["big"], rel=0.05)
    assert bytes_of(small_size.text()) == pytest.approx(expected["small"], rel=0.05)
    assert bytes_of(big_size.text()) > 100 * bytes_of(small_size.text())
    assert expected["big"] + expected["small"] <= shop.stat().st_size
    assert rows["big_view"][3].text() == "—"  # a view has no storage of its own


def test_sizes_are_read_once_per_version_of_the_file(shop: Path) -> None:
    params = ConnectionParams(engine="sqlite", database=str(shop))
    scans: list[str] = []

    def sizes() -> dict[str, int | None]:
        with open_adapter(params) as adapter:
            adapter._conn().set_trace_callback(lambda sql: scans.append(sql) if "dbstat" in sql else None)
            return {o.name: o.size_bytes for o in adapter.get(TableBrowsing).objects("main").items}

    first = sizes()
    assert sizes() == first and len(scans) == 1  # a second page view, even on a new connection, is not a rescan
    with sqlite3.connect(shop) as db:
        db.executemany("INSERT INTO small (note) VALUES (?)", [("x" * 500,) for _ in range(200)])
    grown = sizes()
    assert len(scans) == 2 and grown["small"] > first["small"] and grown["big"] == first["big"]
    assert {name: grown[name] for name in ("big", "small")} == {name: dbstat(shop)[name] for name in ("big", "small")}


def test_without_dbstat_the_navigator_says_the_whole_files_size(shop: Path) -> None:
    with open_adapter(ConnectionParams(engine="sqlite", database=str(shop))) as adapter:
        with sqlite3.connect(shop) as db:  # a new version of the file, so no cached answer applies
            db.execute("INSERT INTO small (note) VALUES ('one more')")

        def no_dbstat(action: int, table: str | None, *_: Any) -> int:
            return sqlite3.SQLITE_DENY if table == "dbstat" else sqlite3.SQLITE_OK

        adapter._conn().set_authorizer(no_dbstat)  # as a build without the dbstat table would answer
        listing = adapter.get(TableBrowsing).objects("main")
    assert all(o.size_bytes is None for o in listing.items)
    megabytes = shop.stat().st_size / 1048576
    assert f"the whole database is {megabytes:,.1f} MB" in listing.notice
