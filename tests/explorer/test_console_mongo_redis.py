"""The MongoDB and Redis consoles on the real servers: JSON commands and typed argv, hostile ones refused."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_py
from pymongo import MongoClient

from connections.engines import adapter_class
from connections.engines.capabilities import Console
from connections.engines.redis.console import parse, unescape
from tests.services import Servers


def console_for(params: Any) -> tuple[Any, Any]:
    adapter = adapter_class(params.engine)(params)
    console = adapter.get(Console)
    assert console is not None
    return adapter, console


@pytest.fixture
def orders(servers: Servers) -> Any:
    m = servers.mongodb
    client = MongoClient(
        host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin", directConnection=True
    )
    collection = client[m.database]["console_orders"]
    collection.drop()
    collection.insert_many([{"n": i, "status": "paid" if i % 2 else "new", "tags": ["<b>"]} for i in range(250)])
    yield collection
    client[m.database]["console_copy"].drop()
    client.close()


def test_mongo_find_aggregate_count_and_distinct_run_one_after_another(servers: Servers, orders: Any) -> None:
    adapter, console = console_for(servers.mongodb.params())
    text = (
        '{"find": "console_orders", "filter": {"status": "paid"}, "sort": {"n": -1}, "limit": 3}\n'
        '{"aggregate": "console_orders", "pipeline": [{"$group": {"_id": "$status", "c": {"$sum": 1}}},'
        ' {"$sort": {"_id": 1}}]}\n'
        '{"countDocuments": "console_orders", "filter": {"n": {"$gte": 200}}}\n'
        '{"distinct": "console_orders", "key": "status"}'
    )
    with adapter:
        chunks = [c for c in console.execute(text, timeout=5) if c.rows]
    found = chunks[0]
    assert found.columns[:1] == ("_id",) and [row[found.columns.index("n")] for row in found.rows] == [249, 247, 245]
    assert [row[:2] for row in chunks[1].rows] == [["new", 125], ["paid", 125]]
    assert chunks[2].rows == [[50]]
    assert sorted(row[0] for row in chunks[3].rows) == ["new", "paid"]


def test_mongo_results_stream_in_batches(servers: Servers, orders: Any) -> None:
    adapter, console = console_for(servers.mongodb.params())
    with adapter:
        sizes = [len(c.rows) for c in console.execute('{"find": "console_orders"}', timeout=5, batch=100)]
    assert sizes == [100, 100, 50]


@pytest.mark.parametrize(
    ("command", "read_only"),
    [
        ('{"aggregate": "console_orders", "pipeline": [{"$out": "console_copy"}]}', True),
        ('{"aggregate": "console_orders", "pipeline": [{"$merge": {"into": "console_copy"}}]}', True),
        ('{"find": "console_orders", "filter": {"$where": "sleep(100) || true"}}', False),
        (
            '{"find": "console_orders", "filter": {"$expr": {"$function": {"body": "1", "args": [], "lang": "js"}}}}',
            False,
        ),
        (
            '{"aggregate": "console_orders", "pipeline": [{"$group": {"_id": 1, "a": {"$accumulator":'
            ' {"init": "function(){}", "lang": "js"}}}}]}',
            False,
        ),
        ('{"find": "console_orders"', False),
        ('{"insert": "console_orders", "documents": [{}]}', False),
    ],
)
def test_mongo_console_refuses_writing_stages_for_viewers_and_javascript_for_everybody(
    servers: Servers, orders: Any, command: str, read_only: bool
) -> None:
    adapter, console = console_for(servers.mongodb.params(extra={"auth_source": "admin", "read_only": read_only}))
    with adapter:
        chunks = list(console.execute(command, timeout=5))
    assert chunks[-1].error
    assert orders.database["console_copy"].count_documents({}) == 0
    assert orders.count_documents({}) == 250


@pytest.fixture
def rdb(servers: Servers) -> Any:
    r = servers.redis
    client = redis_py.Redis(host=r.host, port=r.port, password=r.password or None)
    client.delete("console:bin", "console:list", "console:k")
    client.set("console:k", "v")
    yield client
    client.close()


def test_redis_lines_are_argv_with_escapes_so_binary_values_round_trip(servers: Servers, rdb: Any) -> None:
    adapter, console = console_for(servers.redis.params())
    text = "SET\nconsole:bin\na b\\x00\\xff\\n'\"\n\nGET\nconsole:bin\n\nRPUSH\nconsole:list\nx y\nz"
    with adapter:
        chunks = list(console.execute(text, timeout=5))
        chunks += list(console.execute('[["LRANGE", "console:list", "0", "-1"], ["HGETALL", "nothing"]]', timeout=5))
    assert rdb.get("console:bin") == b"a b\x00\xff\n'\""
    assert chunks[0].rows == [["OK"]] and chunks[1].rows == [[b"a b\x00\xff\n'\""]]
    assert chunks[3].rows == [[1, "x y"], [2, "z"]]


def test_redis_argv_parsing_never_splits_on_spaces() -> None:
    assert [argv for _, argv in parse("SET\nk\nhello world")] == [[b"SET", b"k", b"hello world"]]
    assert unescape("a\\x00\\\\x41") == b"a\x00\\x41"


@pytest.mark.parametrize(
    ("command", "read_only"),
    [
        ("SET\nconsole:k\nchanged", True),
        ("DEL\nconsole:k", True),
        ("[\"EVAL\", \"return redis.call('SET', 'console:k', 'x')\", \"0\"]", False),
        ('["FUNCTION", "FLUSH"]', False),
        ('["CONFIG", "SET", "maxmemory", "1"]', False),
        ('["MODULE", "LOAD", "/tmp/x.so"]', False),
        ('["FLUSHALL"]', False),
        ('["DEBUG", "SLEEP", "0"]', False),
        ('["SHUTDOWN", "NOSAVE"]', False),
        ('["MONITOR"]', False),
    ],
)
def test_redis_console_refuses_writes_for_viewers_and_admin_commands_for_everybody(
    servers: Servers, rdb: Any, command: str, read_only: bool
) -> None:
    adapter, console = console_for(servers.redis.params(extra={"read_only": read_only}))
    with adapter:
        chunks = list(console.execute(command, timeout=5))
    assert chunks[-1].error
    assert rdb.get("console:k") == b"v" and rdb.ping()


def test_a_redis_viewer_may_run_what_the_server_flags_readonly(servers: Servers, rdb: Any) -> None:
    adapter, console = console_for(servers.redis.params(extra={"read_only": True}))
    with adapter:
        chunks = list(console.execute('[["GET", "console:k"], ["TTL", "console:k"]]', timeout=5))
    assert chunks[0].rows == [["v"]] and chunks[1].rows == [[-1]]


def test_an_admin_confirmed_dangerous_command_runs(servers: Servers, rdb: Any) -> None:
    adapter, console = console_for(servers.redis.params())
    console.allow_dangerous = True
    with adapter:
        chunks = list(console.execute('["CONFIG", "GET", "maxmemory-policy"]', timeout=5))
    assert not chunks[-1].error and chunks[-1].rows[0][0] == "maxmemory-policy"
