"""The dbdeck command, run as a subprocess against a live server with a real token."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from audit.models import AuditEvent
from connections.models import Connection
from tests.api.conftest import PG_SCHEMA, PG_TABLE, token_for
from tests.fixtures import People

DBDECK = [sys.executable, "-m", "dbdeck_cli.main"]


def run(args: list[str], env: dict[str, str], stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DBDECK, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with an empty home and no dbdeck variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBDECK_", "XDG_CONFIG"))}
    env["HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


@pytest.fixture
def logged_in(home: dict[str, str], live_server: Any, people: People, transactional_db: Any) -> dict[str, str]:
    return {**home, "DBDECK_URL": live_server.url, "DBDECK_TOKEN": token_for(people.carol, ceiling="viewer")}


def test_login_checks_the_token_and_saves_it_in_a_0600_file(
    home: dict[str, str], live_server: Any, people: People, transactional_db: Any
) -> None:
    secret = token_for(people.carol)
    done = run(["login", live_server.url], home, stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert "as carol" in done.stdout
    saved = Path(home["HOME"]) / ".config" / "dbdeck" / "config.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text()) == {"url": live_server.url, "token": secret}
    whoami = run(["whoami"], home)
    assert whoami.returncode == 0 and whoami.stdout.startswith("carol at ")


def test_login_with_a_wrong_token_says_so_and_saves_nothing(
    home: dict[str, str], live_server: Any, people: People, transactional_db: Any
) -> None:
    done = run(["login", live_server.url], home, stdin="dbd_wrong\n")
    assert done.returncode == 1
    assert "personal access token" in done.stderr and "(401)" in done.stderr
    assert not (Path(home["HOME"]) / ".config" / "dbdeck" / "config.json").exists()


def test_without_login_the_command_says_how_to_log_in(home: dict[str, str]) -> None:
    done = run(["connections"], home)
    assert done.returncode == 1 and "dbdeck login URL" in done.stderr


def test_an_unreachable_server_is_a_clear_error(home: dict[str, str], closed_port: int) -> None:
    env = {**home, "DBDECK_URL": f"http://127.0.0.1:{closed_port}", "DBDECK_TOKEN": "dbd_x"}
    done = run(["connections"], env)
    assert done.returncode == 1 and "Could not reach" in done.stderr


def test_connections_lists_what_the_token_sees(acme_pg: Connection, logged_in: dict[str, str]) -> None:
    done = run(["connections"], logged_in)
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert header.split() == ["ID", "TEAM", "NAME", "ENGINE", "ROLE", "LAST", "CHECK"]
    assert row.split()[1:5] == ["Acme", "warehouse", "PostgreSQL", "viewer"]
    listed = json.loads(run(["connections", "--format", "json"], logged_in).stdout)
    assert [c["name"] for c in listed] == ["warehouse"] and "password" not in json.dumps(listed)


def test_rows_pages_through_a_filtered_table_as_csv(acme_pg: Connection, logged_in: dict[str, str]) -> None:
    args = ["rows", "warehouse", PG_TABLE, "--ns", PG_SCHEMA, "--where", "id", "gt", "95", "--limit", "0"]
    done = run([*args, "--columns", "id,name"], logged_in)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["id", "name"] and [r[0] for r in rows[1:]] == [str(i) for i in range(96, 251)]
    first = run(["rows", str(acme_pg.pk), PG_TABLE, "--ns", PG_SCHEMA, "--limit", "1", "--format", "json"], logged_in)
    assert json.loads(first.stdout)["name"] == "=1+1 <b>'\"`"


def test_export_waits_with_progress_and_writes_the_file(
    acme_pg: Connection, logged_in: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "items.csv"
    args = ["export", "warehouse", PG_TABLE, "--ns", PG_SCHEMA, "--where", "id", "lt", "11", "-o", str(target)]
    done = run(args, logged_in)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(target.open()))
    assert rows[0] == ["id", "name", "data"] and len(rows) == 11 and rows[1][1] == "'=1+1 <b>'\"`"
    assert "10 rows" in done.stderr
    assert AuditEvent.objects.filter(action="data.export", detail__rows=10).exists()


def test_a_failed_export_exits_non_zero_with_the_servers_message(
    acme_pg: Connection, logged_in: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "none.sql"
    done = run(["export", "warehouse", "no such table", "--ns", PG_SCHEMA, "-o", str(target)], logged_in)
    assert done.returncode == 1
    assert "failed: There is no table or view 'no such table'" in done.stderr
    assert not target.exists()
    refused = run(["export", "warehouse", PG_TABLE, "--ns", PG_SCHEMA, "--where", "id", "drop", "1"], logged_in)
    assert refused.returncode == 1
    assert refused.stderr == "dbdeck: Choose a filter operator from the list for 'id'. (400)\n"


def test_an_unknown_connection_name_says_what_to_run(acme_pg: Connection, logged_in: dict[str, str]) -> None:
    done = run(["rows", "nope <x>", "t"], logged_in)
    assert done.returncode == 1 and "`dbdeck connections` lists yours" in done.stderr


COMMANDS = [["login"], ["connections"], ["rows"], ["export"], ["test"], ["whoami"], ["query"], ["slow"]]


@pytest.mark.parametrize(
    "command", [[], *COMMANDS, ["backup"], ["backup", "run"], ["backup", "plans"], ["restore-test"]]
)
def test_every_command_has_help(command: list[str], home: dict[str, str]) -> None:
    done = run([*command, "--help"], home)
    assert done.returncode == 0 and done.stdout.startswith("usage: dbdeck")


def test_the_token_never_appears_in_the_commands_argv(
    acme_pg: Connection, logged_in: dict[str, str], process_watcher: Any
) -> None:
    assert run(["connections"], logged_in).returncode == 0
    assert any("dbdeck_cli.main" in " ".join(s.argv) for s in process_watcher.sightings)
    assert process_watcher.argv_containing(logged_in["DBDECK_TOKEN"]) == []
