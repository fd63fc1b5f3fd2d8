"""The demo shop database: related, realistic, built atomically. No server needed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from connections import demo
from connections.demo import build_demo_sqlite

TABLES = ["customers", "products", "orders", "order_items", "reviews", "event_log"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("demo") / "shop.sqlite3"
    return path, build_demo_sqlite(path, orders=2_000)


@pytest.fixture
def shop(built: tuple[Path, dict[str, int]]) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(f"file:{built[0]}?mode=ro", uri=True)
    yield db
    db.close()


def test_it_creates_the_file_and_returns_the_row_count_of_every_table(
    built: tuple[Path, dict[str, int]], shop: sqlite3.Connection
) -> None:
    path, counts = built
    assert path.is_file()
    assert sorted(counts) == sorted(TABLES)
    assert counts["orders"] == 2_000
    for table in TABLES:
        assert shop.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == counts[table] > 0
    assert counts["order_items"] > counts["orders"]


def test_foreign_keys_are_declared_indexed_and_consistent(shop: sqlite3.Connection) -> None:
    assert shop.execute("PRAGMA foreign_key_check").fetchall() == []
    declared = {
        (table, row[3], row[2])
        for table in TABLES
        for row in shop.execute(f"PRAGMA foreign_key_list({table})").fetchall()
    }
    assert declared == {
        ("orders", "customer_id", "customers"),
        ("order_items", "order_id", "orders"),
        ("order_items", "product_id", "products"),
        ("reviews", "product_id", "products"),
        ("reviews", "customer_id", "customers"),
    }
    for table, column, _ in declared:
        leading = [
            shop.execute(f"PRAGMA index_info({idx[1]})").fetchone()[2]
            for idx in shop.execute(f"PRAGMA index_list({table})")
        ]
        assert column in leading, f"{table}.{column} has no index"


def test_event_log_has_no_primary_key_and_is_addressed_by_rowid(shop: sqlite3.Connection) -> None:
    columns = shop.execute("PRAGMA table_info(event_log)").fetchall()
    assert [c[1] for c in columns] == ["occurred_at", "level", "message"]
    assert all(c[5] == 0 for c in columns)  # pk position 0 on every column: no key at all
    assert shop.execute("SELECT rowid FROM event_log ORDER BY rowid LIMIT 1").fetchone() == (1,)


def test_the_rows_mix_types_nulls_empty_strings_unicode_and_blobs(shop: sqlite3.Connection) -> None:
    assert shop.execute("SELECT COUNT(*) FROM customers WHERE notes IS NULL").fetchone()[0] > 0
    assert shop.execute("SELECT COUNT(*) FROM customers WHERE notes = ''").fetchone()[0] > 0
    assert shop.execute("SELECT COUNT(*) FROM customers WHERE notes != ''").fetchone()[0] > 0
    names = [n for (n,) in shop.execute("SELECT full_name FROM customers")]
    assert any(not n.isascii() for n in names)
    thumbs = [t for (t,) in shop.execute("SELECT photo_thumb FROM reviews WHERE photo_thumb IS NOT NULL")]
    assert thumbs and all(isinstance(t, bytes) and t.startswith(b"\x89PNG\r\n\x1a\n") for t in thumbs)
    assert (
        shop.execute(
            "SELECT COUNT(*) FROM products WHERE attributes IS NOT NULL AND NOT json_valid(attributes)"
        ).fetchone()[0]
        == 0
    )
    assert shop.execute("SELECT COUNT(*) FROM orders WHERE status = 'shipped'").fetchone()[0] > 0


def test_orders_are_placed_after_their_customer_signed_up_and_total_their_items(shop: sqlite3.Connection) -> None:
    early = "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.ordered_at < c.created_at"
    assert shop.execute(early).fetchone()[0] == 0
    assert shop.execute("SELECT COUNT(*) FROM v_order_totals").fetchone()[0] == 2_000
    assert shop.execute("SELECT COUNT(*) FROM v_order_totals WHERE items_total_cents != total_cents").fetchone() == (0,)


def test_analyze_leaves_row_estimates_for_the_explorer(shop: sqlite3.Connection) -> None:
    stats = dict(shop.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'orders'"))
    assert stats["orders_customer_id"].split()[0] == "2000"


def test_the_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3", tmp_path / "c.sqlite3"
    for path, seed in ((first, 7), (second, 7), (other, 8)):
        build_demo_sqlite(path, orders=300, seed=seed)

    def dump(path: Path) -> list[str]:
        with sqlite3.connect(path) as db:
            return list(db.iterdump())

    assert dump(first) == dump(second)
    assert dump(first) != dump(other)


def test_a_second_build_replaces_the_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    build_demo_sqlite(path, orders=300, seed=1)
    reader = sqlite3.connect(path)
    before = reader.execute("SELECT email FROM customers WHERE id = 1").fetchone()
    old_inode = path.stat().st_ino

    counts = build_demo_sqlite(path, orders=400, seed=2)

    assert counts["orders"] == 400
    assert path.stat().st_ino != old_inode  # a new file renamed into place, not the old one rewritten
    assert reader.execute("SELECT email FROM customers WHERE id = 1").fetchone() == before
    reader.close()
    with sqlite3.connect(path) as fresh:
        assert fresh.execute("SELECT COUNT(*) FROM orders").fetchone() == (400,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite3"]


def test_a_failed_build_keeps_the_old_file_and_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shop.sqlite3"
    build_demo_sqlite(path, orders=300)
    original = path.read_bytes()

    def fail_halfway(db: sqlite3.Connection, *args: object) -> dict[str, int]:
        db.execute("INSERT INTO customers VALUES (1, 'a@example.com', 'A', 'US', '2020-01-01', 1, NULL)")
        raise OSError("disk full")

    monkeypatch.setattr(demo, "_fill", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        build_demo_sqlite(path, orders=300)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite3"]


def test_a_leftover_temp_file_from_an_interrupted_build_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "shop.sqlite3"
    path.with_suffix(".tmp").write_bytes(b"half a database")
    assert build_demo_sqlite(path, orders=300)["orders"] == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.sqlite3"]


def test_it_refuses_an_empty_shop(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one order"):
        build_demo_sqlite(tmp_path / "shop.sqlite3", orders=0)
    assert list(tmp_path.iterdir()) == []
