"""What a grid page costs the database and the web worker, kept without changing what the page says.

- a pooled session used a moment ago goes out without a health check round trip;
- a PostgreSQL page read is one statement outside a transaction (no BEGIN, no ROLLBACK), and a
  session the server ended while it sat in the pool is opened again for the read;
- the fast writers of row keys and cells give exactly what the general ones give.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
from django import forms
from django.http import QueryDict
from django.template import Context
from hypothesis import given
from hypothesis import strategies as st

from connections.engines import cursor, open_adapter
from connections.engines.browse import FILTER_OPS, Column, Cut, Filter, Page, PageRequest, TableInfo
from connections.models import Connection
from explorer import params, pool
from explorer.forms import PAGE_SIZES, GridForm
from explorer.templatetags.explorer import _cell_html, _cells_html, crumbs, grid_card
from tests import htmltree
from tests.services import Servers


@pytest.fixture(autouse=True)
def empty_pool() -> Any:
    pool.clear()
    yield
    pool.clear()


def test_a_session_back_a_moment_ago_goes_out_without_a_health_check(
    acme_sqlite: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as first:
        first.check()
    checks: list[Any] = []
    monkeypatch.setattr(type(first), "healthy", lambda self: checks.append(self) or True)
    with pool.checkout(acme_sqlite, read_only=False) as again:
        assert again is first
    assert checks == []
    monkeypatch.setattr(pool, "CHECK_AFTER_SECONDS", 0.0)
    with pool.checkout(acme_sqlite, read_only=False) as later:
        assert later is first
    assert checks == [first]


def test_a_session_that_fails_its_health_check_is_replaced(
    acme_sqlite: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as first:
        first.check()
    monkeypatch.setattr(pool, "CHECK_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(type(first), "healthy", lambda self: self is not first)
    with pool.checkout(acme_sqlite, read_only=False) as second:
        assert second is not first and second.check().version
    assert first._db is None  # closed


def _pg(servers: Servers) -> Any:
    return open_adapter(servers.postgresql.params())


def test_a_postgresql_read_is_its_own_transaction_and_leaves_none_open(servers: Servers) -> None:
    with _pg(servers) as adapter:
        # now() is the transaction's start: equal to the statement's only when the statement began it.
        assert adapter._read("SELECT now() = statement_timestamp()") == [(True,)]
        conn = adapter._db
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        assert conn.autocommit is False
        # _execute still runs in psycopg2's transaction (BEGIN first), as writes need.
        assert adapter._execute("SELECT now() = statement_timestamp()") == [(False,)]
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        adapter._rollback()


def test_a_postgresql_read_inside_an_open_transaction_sees_its_writes(servers: Servers) -> None:
    with _pg(servers) as adapter:
        adapter._execute("CREATE TEMPORARY TABLE read_here (v text)")
        adapter._execute("INSERT INTO read_here VALUES (%s)", ["it's <b>\u540d"])
        assert adapter._read("SELECT v FROM read_here") == [("it's <b>\u540d",)]
        adapter._rollback()
        assert adapter._read("SELECT count(*) FROM pg_tables WHERE tablename = 'read_here'") == [(0,)]


def test_a_postgresql_session_ended_by_the_server_is_opened_again_for_a_read(servers: Servers) -> None:
    pg = servers.postgresql
    with _pg(servers) as adapter:
        (before,) = adapter._read("SELECT pg_backend_pid()")[0]
        admin = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [before])
        admin.close()
        (after,) = adapter._read("SELECT pg_backend_pid()")[0]
        assert after != before


def test_postgresql_bytea_comes_back_as_bytes(servers: Servers) -> None:
    with _pg(servers) as adapter:
        rows = adapter._read("SELECT %s::bytea, NULL::bytea", [b"\x00\xff'\"<"])
    assert rows == [(b"\x00\xff'\"<", None)] and type(rows[0][0]) is bytes


TZ = dt.timezone(dt.timedelta(hours=5, minutes=30))
SAMPLES = [
    "plain",
    "",
    "<script>alert('x')</script> & \"q\"",
    "nul \x00 inside",
    "tab\tnewline\n",
    "unicode \u540d\u524d \U0001f680",
    0,
    -(2**63),
    2**70,
    1.5,
    float("inf"),
    float("nan"),
    Decimal("12.30"),
    Decimal("-1E+5"),
    Decimal("NaN"),
    dt.datetime(2024, 1, 2, 3, 4, 5, 678),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=TZ),
    dt.date(2024, 2, 29),
    dt.time(23, 59, 59, 1),
    None,
    True,
    False,
    b"\x00\xff",
    b"text bytes",
    uuid.UUID(int=7),
    {"a": [1, "<b>"]},
    Cut("cut text", 5_000_000),
    Cut(b"\x00" * 10, 100),
]


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_a_cell_written_by_its_type_is_the_cell_the_general_writer_makes(value: Any) -> None:
    assert _cells_html([value]) == _cell_html(value)


def test_a_row_of_cells_is_each_cell_in_order() -> None:
    assert _cells_html(SAMPLES) == "".join(_cell_html(v) for v in SAMPLES)


KEY_VALUES = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(),
)


@given(st.lists(st.one_of(st.none(), st.dictionaries(st.text(min_size=1), KEY_VALUES, min_size=1, max_size=3))))
def test_a_page_of_row_keys_gets_the_tokens_encode_makes(keys: list[dict[str, Any] | None]) -> None:
    tokens = cursor.encode_keys(keys)
    assert tokens == [cursor.encode(key) if key else "" for key in keys]
    assert [cursor.decode(t, shape=cursor.KEY) if t else None for t in tokens] == [k or None for k in keys]


def test_a_form_that_needs_a_table_does_not_make_the_next_form_need_one() -> None:
    strict = GridForm({"ns": "public"}, need_object=True)
    assert not strict.is_valid() and "Choose a table or collection first." in strict.errors["obj"]
    relaxed = GridForm({"ns": "public"})
    assert relaxed.is_valid(), relaxed.errors
    assert GridForm.base_fields["obj"].required is False
    assert "Choose a table" not in str(GridForm.base_fields["obj"].error_messages)


def test_the_crumbs_escape_every_name_and_link_to_each_level(acme_sqlite: Connection) -> None:
    acme_sqlite.name = "<script>alert('n')</script>"
    acme_sqlite.production = True
    ns, obj = 'sch"ema <b>', "t&ble'"
    html = crumbs(Context({"connection": acme_sqlite, "ns": ns, "obj": obj}))
    assert "<script>" not in html and "<b>" not in html
    links = htmltree.parse(html).find_all("a")
    assert [a.text() for a in links] == [acme_sqlite.name, "SQLite", ns, obj]
    assert htmltree.parse(html).find("span", "prod").text() == "production"
    assert [a.query() for a in links[2:]] == [{"ns": [ns]}, {"ns": [ns], "obj": [obj]}]


HOSTILE = "<script>alert('x')</script> \"q\" `b` & 表"


def _card_context(documents: bool, rows: list[dict[str, Any]]) -> Context:
    columns = [Column(HOSTILE, "text"), Column("id", "integer", nullable=False, primary_key=True)]
    info = TableInfo("ns", HOSTILE, HOSTILE, columns, (HOSTILE, "id"), HOSTILE, estimated_rows=250_000)
    page = Page([c.name for c in columns], [r["cells"] for r in rows], [], None, None, notice=HOSTILE)
    preq = PageRequest(sort=HOSTILE, descending=True, filters=(Filter(HOSTILE, "eq", HOSTILE),), query=HOSTILE)
    url = "/x/?q=" + HOSTILE
    return Context(
        {
            "info": info,
            "page": page,
            "preq": preq,
            "rows": rows,
            "documents": documents,
            "ns": HOSTILE,
            "obj": HOSTILE,
            "record_base": url + "&key=",
            "reset_url": url,
            "indexes_url": url,
            "partitions_url": url,
            "all_columns": columns,
            "shown_columns": [HOSTILE],
            "filters": [*preq.filters, None],
            "ops": FILTER_OPS,
            "page_sizes": PAGE_SIZES,
            "next_url": url,
            "prev_url": url,
            "first_url": url,
            "sort_urls": {HOSTILE: url, "id": url},
            "count_url": url,
            "export_url": url,
            "new_url": url,
            "can_write": True,
        }
    )


@pytest.mark.parametrize("documents", [False, True])
def test_the_grid_card_escapes_every_value_it_writes(documents: bool) -> None:
    html = grid_card(_card_context(documents, [{"cells": [HOSTILE, 1], "key": "a2V5"}]))
    assert "<script>" not in html and "& 表" not in html
    tree = htmltree.parse(html)
    assert tree.find("h2").text() == f"{HOSTILE} {HOSTILE}"
    assert tree.find("p", "notice").text() == HOSTILE
    assert "≈ 250.0k rows (estimate)" in tree.find("span", id="exact-count").text()
    assert {a.attrs["href"] for a in tree.find("div", "actions").find_all("a")} == {"/x/?q=" + HOSTILE}
    assert [a.attrs["hx-get"] for a in tree.find("nav", "pager").find_all("a")] == ["/x/?q=" + HOSTILE] * 3
    assert tree.find("nav", "pager").find("span").text().endswith(f"key: {HOSTILE}, id ({HOSTILE})")
    assert [td.text() for td in tree.find("tbody").find_all("td")][1:] == [HOSTILE, "1"]
    form = tree.find("form")
    if documents:
        assert form.find("input", name="q").attrs["value"] == HOSTILE
    else:
        assert form.find("input", name="sort").attrs["value"] == HOSTILE
        assert [f.attrs["value"] for f in form.find_all("input", name="fv")] == [HOSTILE, ""]
        chosen = [o.text() for o in form.find_all("option") if "selected" in o.attrs]
        assert chosen == [HOSTILE, "=", "100"]  # column, operator, rows per page
        assert [c.attrs["value"] for c in form.find_all("input", name="col")] == [HOSTILE, "id"]
        assert [c.attrs.get("checked") for c in form.find_all("input", name="col")] == ["", None]


def test_an_empty_page_says_no_row_matches_the_filters() -> None:
    tree = htmltree.parse(grid_card(_card_context(False, [])))
    assert tree.find("tbody").text() == "No rows match these filters."
    assert tree.find("tbody").find("td").attrs["colspan"] == "3"


NAMES = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",))))


@given(NAMES, NAMES)
def test_a_table_query_is_what_querydict_writes(ns: str | None, obj: str | None) -> None:
    built = params._put(QueryDict(mutable=True), {"ns": ns, "obj": obj})
    assert params.table_query(ns, obj) == params.with_query("", built)


def _django_cleaned(form_class: type[Any], data: QueryDict) -> tuple[dict[str, Any], dict[str, Any]]:
    form = form_class(data)
    form.cleaned_data = {}
    forms.BaseForm._clean_fields(form)  # Django's own loop, BoundFields and all
    return form.cleaned_data, form._errors


PARAM = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
GRID_NAMES = ["ns", "obj", "after", "before", "sort", "desc", "limit", "fc", "fo", "fv", "col", "q", "x"]


@given(st.lists(st.tuples(st.sampled_from(GRID_NAMES), st.one_of(PARAM, st.sampled_from(["", "1", "50", "0"])))))
def test_the_grid_form_cleans_its_fields_as_djangos_own_loop_does(pairs: list[tuple[str, str]]) -> None:
    data = QueryDict(mutable=True)
    for name, value in pairs:
        data.appendlist(name, value)
    form = GridForm(data)
    form.cleaned_data = {}
    form._clean_fields()
    assert (form.cleaned_data, form._errors) == _django_cleaned(GridForm, data)
