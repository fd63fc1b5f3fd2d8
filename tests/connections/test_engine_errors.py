"""Each adapter's check() against its real server: versions, latency, and errors that say what to fix."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from connections.engines import EngineError, open_adapter
from connections.engines.base import ConnectionParams
from connections.engines.browse import TableBrowsing
from tests.services import Servers

NETWORK = ["postgresql", "mysql", "redis", "mongodb", "s3"]
# Object stores whose credentials are no password (a key file, an account key, a SAS); their own
# files test those: tests/connections/test_gcs_check.py, test_azure_check.py.
CLOUD = ["gcs", "azure"]
WRONG = "wr0ng-Pa55'\"<x>"
HOSTILE = "q'u\"o`te]; DROP <script>名"


@pytest.mark.parametrize("engine", NETWORK + CLOUD)
def test_check_returns_the_version_and_a_latency(servers: Servers, engine: str) -> None:
    with open_adapter(getattr(servers, engine).params()) as adapter:
        info = adapter.check()
    assert info.version and info.latency_ms > 0
    expected = {
        "postgresql": "PostgreSQL 15",
        "mysql": "MariaDB",
        "redis": "Redis",
        "mongodb": "MongoDB",
        "s3": "S3",
        "gcs": "Google Cloud Storage",
        "azure": "Azure Blob Storage",
    }[engine]
    assert info.version.startswith(expected)


@pytest.mark.parametrize("engine", NETWORK)
def test_a_wrong_password_is_reported_as_such_without_echoing_it(servers: Servers, engine: str) -> None:
    with open_adapter(getattr(servers, engine).params(password=WRONG)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "auth"
    assert WRONG not in err.value.message and "wr0ng" not in err.value.message
    assert "password" in err.value.message.lower()


@pytest.mark.parametrize("engine", NETWORK + CLOUD)
def test_a_closed_port_answers_within_six_seconds(servers: Servers, engine: str, closed_port: int) -> None:
    server = getattr(servers, engine)
    extra = {k: v for k, v in server.extra.items() if k != "endpoint_url"}
    params = server.params(port=closed_port, extra=extra, connect_timeout=5.0)
    started = time.monotonic()
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert time.monotonic() - started < 6
    assert err.value.kind == "unreachable"
    assert str(closed_port) in err.value.message


# (Azure: "no_such_db_here" is no valid container name; test_azure_check.py names a missing one.)
@pytest.mark.parametrize("engine", ["postgresql", "mysql", "s3", "gcs"])
def test_a_missing_database_is_named(servers: Servers, engine: str) -> None:
    with open_adapter(getattr(servers, engine).params(database="no_such_db_here")) as adapter:
        with pytest.raises(EngineError) as err:
            adapter.check()
    assert err.value.kind == "database"


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "mongodb"])
def test_hostile_names_give_a_clean_error(servers: Servers, engine: str) -> None:
    with open_adapter(getattr(servers, engine).params(username=HOSTILE, database=HOSTILE)) as adapter:
        with pytest.raises(EngineError) as err:
            adapter.check()
    assert err.value.kind in {"auth", "database", "config"}


def test_a_nul_byte_is_refused_before_reaching_a_driver(servers: Servers) -> None:
    with open_adapter(servers.postgresql.params(database="a\x00b")) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "config"


def sockets_to(port: int) -> int:
    """This process's established TCP connections to `port` (matched by socket inode in /proc)."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port, state, inode = int(fields[2].rsplit(":", 1)[1], 16), fields[3], fields[9]
            count += remote_port == port and state == "01" and inode in inodes  # 01: ESTABLISHED
    return count


def settled_sockets_to(port: int, expected: int, seconds: float = 3.0) -> int:
    """sockets_to(port) once it reaches `expected`: pymongo's monitor threads close theirs just after close()."""
    deadline = time.monotonic() + seconds
    while (count := sockets_to(port)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.parametrize("engine", NETWORK)
def test_close_is_idempotent(servers: Servers, engine: str) -> None:
    server = getattr(servers, engine)
    before = sockets_to(server.port)
    adapter = open_adapter(server.params())
    adapter.check()
    if engine != "s3":  # moto's HTTP server closes each connection after its response; the others keep theirs
        assert sockets_to(server.port) > before
    adapter.close()
    assert settled_sockets_to(server.port, before) == before  # ... and close() released every one
    adapter.close()  # a second close is harmless
    assert sockets_to(server.port) == before


def test_postgresql_requiring_tls_from_a_plain_server_says_so(servers: Servers) -> None:
    with open_adapter(servers.postgresql.params(tls_mode="require")) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "tls" and "TLS" in err.value.message


def test_sqlite_opens_a_real_file(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).close()
    with open_adapter(ConnectionParams(engine="sqlite", database=str(path))) as adapter:
        assert adapter.check().version.startswith("SQLite 3.")


def test_sqlite_never_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite3"
    with (
        open_adapter(ConnectionParams(engine="sqlite", database=str(path))) as adapter,
        pytest.raises(EngineError) as e,
    ):
        adapter.check()
    assert e.value.kind == "database" and not path.exists()


def test_sqlite_read_only_refuses_writes_at_the_database(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("INSERT INTO t VALUES (1, 'a')")
    params = ConnectionParams(engine="sqlite", database=str(path), extra={"read_only": True})
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.get(TableBrowsing).update("main", "t", {"id": 1}, {"v": "b"})
    assert err.value.kind == "permission"
    assert sqlite3.connect(path).execute("SELECT v FROM t").fetchone() == ("a",)


def test_a_file_that_is_not_sqlite_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"\x00\xff not a database" * 100)
    with (
        open_adapter(ConnectionParams(engine="sqlite", database=str(path))) as adapter,
        pytest.raises(EngineError) as e,
    ):
        adapter.check()
    assert e.value.kind == "database"


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_the_statement_timeout_cancels_a_slow_query(servers: Servers, engine: str) -> None:
    sleep = {"postgresql": "SELECT pg_sleep(5)", "mysql": "SELECT SLEEP(5)"}[engine]
    with open_adapter(getattr(servers, engine).params(statement_timeout=1.0)) as adapter:
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            adapter._execute(sleep)
        assert err.value.kind == "timeout"
        assert time.monotonic() - started < 4
