"""Partitions on the real servers: PostgreSQL declarative partitions, MariaDB partitions, MongoDB shard keys."""

from __future__ import annotations

import psycopg2
import pymysql
from django.urls import reverse

from connections.engines import open_adapter
from connections.engines.partitions import Partitioning
from connections.models import Connection
from tests.fixtures import People, client_for
from tests.services import Servers

PARENT = 'ev\'ents "by" <i>month</i>'


def test_postgresql_lists_partitions_with_bounds_sizes_and_sub_partitions(servers: Servers) -> None:
    pg = servers.postgresql
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    conn.autocommit = True
    p = '"ev\'ents ""by"" <i>month</i>"'
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {p} CASCADE")
        cur.execute(f"CREATE TABLE {p} (id int, at date, kind text) PARTITION BY RANGE (at)")
        cur.execute(f"CREATE TABLE jan PARTITION OF {p} FOR VALUES FROM ('2024-01-01') TO ('2024-02-01')")
        cur.execute(
            f"CREATE TABLE feb PARTITION OF {p} FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')"
            " PARTITION BY LIST (kind)"
        )
        cur.execute("CREATE TABLE feb_a PARTITION OF feb FOR VALUES IN ('a')")
        cur.execute(f"INSERT INTO {p} SELECT g, DATE '2024-01-01' + (g % 50), 'a' FROM generate_series(1, 1000) g")
    conn.close()
    with open_adapter(pg.params()) as adapter:
        info = adapter.get(Partitioning).partitions("public", PARENT)
        child = adapter.get(Partitioning).partitions("public", "feb_a")
    assert info.key == "RANGE (at)" and info.parent is None
    names = {part.name: part for part in info.partitions}
    assert set(names) == {"jan", "feb", "feb_a"}
    assert "FROM ('2024-01-01') TO ('2024-02-01')" in names["jan"].bounds
    assert names["feb"].partitioned and names["feb_a"].parent == "feb" and names["jan"].size_bytes
    assert child.parent == ("public", "feb") and not child.partitions


def test_mariadb_lists_range_partitions(servers: Servers) -> None:
    my = servers.mysql
    conn = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, database=my.database)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS `pa``rts`")
        cur.execute(
            "CREATE TABLE `pa``rts` (id int, y int) PARTITION BY RANGE (y)"
            " (PARTITION p2023 VALUES LESS THAN (2024), PARTITION pmax VALUES LESS THAN MAXVALUE)"
        )
    conn.close()
    with open_adapter(my.params()) as adapter:
        info = adapter.get(Partitioning).partitions(my.database, "pa`rts")
        plain = adapter.get(Partitioning)
    assert info.key == "RANGE (`y`)"
    assert [(p.name, p.bounds) for p in info.partitions] == [
        ("p2023", "VALUES LESS THAN (2024)"),
        ("pmax", "VALUES LESS THAN (MAXVALUE)"),
    ]
    assert plain is not None


def test_mongodb_says_when_the_server_reports_no_shard_key(servers: Servers) -> None:
    with open_adapter(servers.mongodb.params()) as adapter:
        info = adapter.get(Partitioning).partitions("dbdeck_test", "anything")
    assert not info.key and "shard" in info.notice


def test_the_partitions_page_shows_the_children_and_escapes_names(servers: Servers, people: People) -> None:
    pg = servers.postgresql
    connection = Connection(
        team=people.acme,
        name="pg",
        engine="postgresql",
        host=pg.host,
        port=pg.port,
        database=pg.database,
        username=pg.username,
        options={"tls_mode": "disable"},
    )
    connection.set_secret(pg.password)
    connection.save()
    test_postgresql_lists_partitions_with_bounds_sizes_and_sub_partitions(servers)
    url = reverse("explorer:partitions", args=[connection.pk]) + "?" + f"ns=public&obj={PARENT}".replace(" ", "%20")
    response = client_for(people.carol).get(url)
    body = response.content.decode()
    assert response.status_code == 200 and "RANGE (at)" in body and "feb_a" in body
    assert "<i>month</i>" not in body and "&lt;i&gt;month&lt;/i&gt;" in body
    assert client_for(people.charlie).get(url).status_code == 404


def test_the_navigator_marks_partitioned_tables_and_partitions(servers: Servers) -> None:
    test_postgresql_lists_partitions_with_bounds_sizes_and_sub_partitions(servers)
    from connections.engines.browse import TableBrowsing

    with open_adapter(servers.postgresql.params()) as adapter:
        items = {o.name: o for o in adapter.get(TableBrowsing).objects("public").items}
    assert items[PARENT].detail == "partitioned: 2 partitions" and items[PARENT].size_bytes
    assert items["jan"].detail == f"partition of {PARENT}" and items["feb_a"].detail.startswith("partitioned") is False
    assert items["feb_a"].detail == "partition of feb"
