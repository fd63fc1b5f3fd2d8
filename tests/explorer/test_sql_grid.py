"""The grid, row detail and edits on PostgreSQL, MariaDB and SQLite, with hostile names and values."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.engines import cursor
from connections.models import Connection
from tests import htmltree
from tests.explorer.sql_targets import (
    COL_NAME,
    NOKEY,
    NOKEY_ROWS,
    PARENT,
    ROWS,
    TABLE,
    XSS,
    SqlTarget,
    build_mysql,
    build_postgresql,
    build_sqlite,
)
from tests.fixtures import People, client_for
from tests.services import Servers

PAGE_BYTE_CAP = 5_000_000


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def target(request: Any, servers: Servers, acme_sqlite_dir: Path) -> SqlTarget:
    if request.param == "postgresql":
        return build_postgresql(servers)
    if request.param == "mysql":
        return build_mysql(servers)
    return build_sqlite(acme_sqlite_dir)


@pytest.fixture
def conn(target: SqlTarget, people: People) -> Connection:
    fields = dict(target.connection_fields)
    password = fields.pop("password", "")
    connection = Connection(team=people.acme, name=f"{target.engine} target", options={"tls_mode": "disable"}, **fields)
    connection.set_secret(password)
    connection.save()
    return connection


def grid_url(conn: Connection, ns: str, obj: str, **extra: Any) -> str:
    return reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": ns, "obj": obj, **extra}, doseq=True)


def row_ids(body: str) -> list[int]:
    """The id column is first after the link cell; pick the key tokens from the row links instead."""
    ids = []
    for token in re.findall(r"key=([A-Za-z0-9_\-]+)", body):
        key = cursor.decode(token)
        ids.append(int(key["id"]))
    return ids


def test_the_navigator_lists_the_hostile_table_with_an_estimate(
    conn: Connection, target: SqlTarget, people: People
) -> None:
    client = client_for(people.carol)
    body = client.get(
        reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": target.ns}), follow=True
    ).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)</script>" not in body
    assert PARENT.replace('"', "&quot;") in body or "pa`rent" in body


def test_pages_forward_and_back_in_key_order(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.carol)
    first = client.get(grid_url(conn, target.ns, TABLE))
    assert first.status_code == 200, first.content.decode()[:3000]
    body = first.content.decode()
    assert row_ids(body) == list(range(1, 101))
    next_url = re.search(r'href="(\?[^"]+)" rel="next"', body).group(1).replace("&amp;", "&")
    second = client.get(reverse("explorer:browse", args=[conn.pk]) + next_url).content.decode()
    assert row_ids(second) == list(range(101, 201))
    prev_url = re.search(r'href="(\?[^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    back = client.get(reverse("explorer:browse", args=[conn.pk]) + prev_url).content.decode()
    assert row_ids(back) == list(range(1, 101))


def test_sorting_by_a_column_keeps_the_key_as_tiebreaker(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.carol)
    seen: list[int] = []
    url = grid_url(conn, target.ns, TABLE, sort="grp", desc="1")
    while url:
        body = client.get(url).content.decode()
        seen.extend(row_ids(body))
        match = re.search(r'href="(\?[^"]+)" rel="next"', body)
        url = reverse("explorer:browse", args=[conn.pk]) + match.group(1).replace("&amp;", "&") if match else ""
    expected = sorted(range(1, ROWS + 1), key=lambda i: (-(i % 7), -i))
    assert seen == expected


def test_filters_are_parameters_even_with_hostile_values(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.carol)
    body = client.get(grid_url(conn, target.ns, TABLE, fc=[COL_NAME], fo=["contains"], fv=["%_off'; DROP"])).content
    assert row_ids(body.decode()) == [5]
    body = client.get(grid_url(conn, target.ns, TABLE, fc=[COL_NAME, "grp"], fo=["isnull", "lt"], fv=["", "5"])).content
    assert row_ids(body.decode()) == [3]
    body = client.get(grid_url(conn, target.ns, TABLE, fc=["id"], fo=["in"], fv=["7, 9,11"])).content
    assert row_ids(body.decode()) == [7, 9, 11]
    response = client.get(grid_url(conn, target.ns, TABLE, fc=['nope"; DROP'], fo=["eq"], fv=["1"]))
    assert response.status_code == 400 and b"no column" in response.content


def test_values_render_as_inert_and_distinct_text(conn: Connection, target: SqlTarget, people: People) -> None:
    body = client_for(people.carol).get(grid_url(conn, target.ns, TABLE)).content.decode()
    assert XSS not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert 'class="v-null"' in body and 'class="v-empty"' in body and 'class="v-binary"' in body
    assert "00 ff 01" in body  # hex preview of the binary column


def test_the_estimated_total_shows_and_counting_is_explicit(
    conn: Connection, target: SqlTarget, people: People
) -> None:
    client = client_for(people.carol)
    body = client.get(grid_url(conn, target.ns, TABLE)).content.decode()
    assert "(estimate)" in body
    counted = client.get(
        reverse("explorer:count", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "fc": "grp", "fo": "eq", "fv": "3"}),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f"<strong>{sum(1 for i in range(1, ROWS + 1) if i % 7 == 3)}</strong>" in counted


def test_a_table_without_a_key_still_pages(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.carol)
    url = grid_url(conn, target.ns, NOKEY)
    seen: list[str] = []
    sizes: list[int] = []
    notices: set[str] = set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content.decode()[:2000]
        page = htmltree.parse(response.content)
        rows = page.find("table", "data").find("tbody").find_all("tr")
        sizes.append(len(rows))
        seen.extend(row.find_all("td")[1].text() for row in rows)
        notices.update(p.text() for p in page.find_all("p", "notice"))
        following = page.find_all("a", rel="next")
        url = reverse("explorer:browse", args=[conn.pk]) + following[0].attrs["href"] if following else ""
    assert sizes == [100, 100, NOKEY_ROWS - 200]
    assert Counter(seen) == Counter(f"v{i}" for i in range(1, NOKEY_ROWS + 1))  # every row, exactly once
    if target.engine == "mysql":  # no row locator: the visible notice says pages use OFFSET
        assert any("OFFSET" in notice for notice in notices)


def test_a_row_shows_its_foreign_key_link_and_referrers(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.carol)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "key": cursor.encode({"id": 12})})
    )
    body = client.get(url).content.decode()
    assert "name 0012" in body and "referenced row" in body
    parent = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": PARENT, "key": cursor.encode({"id": 3})})
    )
    assert "Referred to by" in client.get(parent).content.decode()


def test_an_editor_updates_a_row_by_its_key_and_it_is_audited(
    conn: Connection, target: SqlTarget, people: People
) -> None:
    client = client_for(people.bob)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "key": cursor.encode({"id": 42})})
    )
    response = client.post(url, {"key": cursor.encode({"id": 42}), f"v:{COL_NAME}": "new 'value' <b>", "v:grp": "99"})
    assert response.status_code == 302, response.content.decode()[:2000]
    row = target.execute(f"SELECT {target.quote(COL_NAME)}, grp FROM {target.table(TABLE)} WHERE id = %s", (42,))
    assert row == [("new 'value' <b>", 99)]
    assert target.execute(f"SELECT COUNT(*) FROM {target.table(TABLE)} WHERE grp = 99", ())[0][0] == 1
    event = AuditEvent.objects.get(action="data.update")
    assert event.detail["before"][COL_NAME] == "name 0042" and event.detail["after"][COL_NAME] == "new 'value' <b>"


def test_insert_and_delete_by_key(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.bob)
    parents = f"SELECT id, label FROM {target.table(PARENT)} ORDER BY id"
    before = target.execute(parents)
    new = reverse("explorer:record_new", args=[conn.pk]) + "?" + urlencode({"ns": target.ns, "obj": PARENT})
    assert client.post(new, {"v:id": "77", "v:label": "né <x>"}).status_code == 302
    assert target.execute(parents) == [*before, (77, "né <x>")]
    delete = reverse("explorer:record_delete", args=[conn.pk]) + "?" + urlencode({"ns": target.ns, "obj": PARENT})
    assert client.post(delete, {"key": cursor.encode({"id": 77})}).status_code == 302
    assert target.execute(parents) == before
    assert AuditEvent.objects.filter(action__in=["data.insert", "data.delete"]).count() == 2


def test_a_viewer_cannot_change_data_even_with_a_crafted_request(
    conn: Connection, target: SqlTarget, people: People
) -> None:
    client = client_for(people.carol)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "key": cursor.encode({"id": 1})})
    )
    assert client.post(url, {"key": cursor.encode({"id": 1}), "v:grp": "1000"}).status_code == 403
    delete = reverse("explorer:record_delete", args=[conn.pk]) + "?" + urlencode({"ns": target.ns, "obj": TABLE})
    assert client.post(delete, {"key": cursor.encode({"id": 1})}).status_code == 403
    # And the database itself refuses: the viewer's session is read-only.
    from connections.engines import EngineError
    from connections.engines.browse import TableBrowsing

    with conn.adapter(read_only=True) as adapter, pytest.raises(EngineError):
        adapter.get(TableBrowsing).update(target.ns, TABLE, {"id": 1}, {"grp": "1000"})
    assert target.execute(f"SELECT grp FROM {target.table(TABLE)} WHERE id = %s", (1,)) == [(1,)]


def test_production_writes_need_the_typed_name(conn: Connection, target: SqlTarget, people: People) -> None:
    conn.production = True
    conn.save()
    client = client_for(people.bob)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "key": cursor.encode({"id": 50})})
    )
    grp = f"SELECT grp FROM {target.table(TABLE)} WHERE id = %s"
    response = client.post(url, {"key": cursor.encode({"id": 50}), "v:grp": "500"})
    assert response.status_code == 400 and b"type its name" in response.content
    response = client.post(url, {"key": cursor.encode({"id": 50}), "v:grp": "500", "confirm": conn.name + "x"})
    assert response.status_code == 400
    assert target.execute(grp, (50,)) == [(50 % 7,)]  # refused writes left the row alone
    response = client.post(url, {"key": cursor.encode({"id": 50}), "v:grp": "500", "confirm": conn.name})
    assert response.status_code == 302
    assert target.execute(grp, (50,)) == [(500,)]


def test_a_huge_value_is_cut_and_no_page_exceeds_the_cap(conn: Connection, target: SqlTarget, people: People) -> None:
    client = client_for(people.bob)
    url = (
        reverse("explorer:record", args=[conn.pk])
        + "?"
        + urlencode({"ns": target.ns, "obj": TABLE, "key": cursor.encode({"id": 60})})
    )
    huge = "x" * 10_000_000
    assert client.post(url, {"key": cursor.encode({"id": 60}), f"v:{COL_NAME}": huge[:9_999_000]}).status_code == 302
    grid = client.get(grid_url(conn, target.ns, TABLE))
    assert len(grid.content) < PAGE_BYTE_CAP
    detail = client.get(url)
    assert len(detail.content) < PAGE_BYTE_CAP and b"Cut at" in detail.content


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "sql"])
def test_export_streams_every_page(
    conn: Connection, target: SqlTarget, people: People, django_capture_on_commit_callbacks: Any, fmt: str
) -> None:
    client = client_for(people.carol)
    start = reverse("explorer:export", args=[conn.pk]) + "?" + urlencode({"ns": target.ns, "obj": TABLE})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(start, {"format": fmt, "max_rows": "1000"})
    assert response.status_code == 302
    status = client.get(response["Location"])
    assert b"Done" in status.content, status.content.decode()[:2000]
    download = client.get(response["Location"] + "download/")
    data = b"".join(download.streaming_content).decode()
    lines = data.strip("\n").split("\n")
    if fmt == "csv":
        assert len([line for line in lines if line]) >= ROWS + 1 and XSS in data
    elif fmt == "jsonl":
        import json

        records = [json.loads(line) for line in lines]
        assert len(records) == ROWS and records[0]["na\"me'`"] == XSS
    else:
        assert len(lines) == ROWS and all(line.startswith("INSERT INTO ") for line in lines)
        # The statements replay: into a copy of the table, every row comes back.
        if target.engine == "sqlite":
            import sqlite3

            copy = sqlite3.connect(":memory:")
            columns = f"id, {target.quote(COL_NAME)}, grp, created, data, blob, parent_id"
            copy.execute(f"CREATE TABLE {target.table(TABLE)} ({columns})")
            copy.executescript(data)
            assert copy.execute("SELECT count(*) FROM " + target.table(TABLE)).fetchone()[0] == ROWS
    assert AuditEvent.objects.filter(action="data.export").exists()


def test_invalid_utf8_and_nul_in_text_render_as_escaped_text(
    acme_sqlite_dir: Path, people: People, servers: Servers
) -> None:
    import sqlite3

    path = acme_sqlite_dir / "odd.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE odd (id INTEGER PRIMARY KEY, v TEXT)")
    db.execute("INSERT INTO odd VALUES (1, CAST(X'fffe41' AS TEXT)), (2, ?), (3, ?)", ("a\x00b<script>", "ok"))
    db.commit()
    conn = Connection.objects.create(team=people.acme, name="odd", engine="sqlite", database=str(path))
    body = client_for(people.carol).get(grid_url(conn, "main", "odd")).content.decode()
    assert "ff fe 41" in body  # invalid UTF-8 shows as bytes
    assert "a\\x00b&lt;script&gt;" in body and "\x00" not in body.replace("\\x00", "")
