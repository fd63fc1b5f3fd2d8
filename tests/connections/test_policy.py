"""Where connections may point: metadata addresses, DSN-smuggling names, SQLite roots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from connections import policy
from connections.models import Connection
from tests.fixtures import People


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "169.254.10.1",
        "fe80::1",
        "::ffff:169.254.169.254",
        "metadata.google.internal",
        "METADATA.google.internal.",
    ],
)
def test_cloud_metadata_and_link_local_targets_are_refused(host: str) -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        policy.check_host(host)


def test_loopback_is_allowed_by_default() -> None:
    assert policy.check_host("127.0.0.1") == "127.0.0.1"


def test_an_allow_list_refuses_everything_else(settings: Any) -> None:
    settings.DBDECK_HOSTS_ALLOWED = ["10.0.0.0/8", "db.internal"]
    with pytest.raises(ValidationError):
        policy.check_host("127.0.0.1")
    settings.DBDECK_HOSTS_ALLOWED = ["127.0.0.0/8"]
    assert policy.check_host("127.0.0.1") == "127.0.0.1"


def test_a_denied_network_applies_to_resolved_names(settings: Any) -> None:
    settings.DBDECK_HOSTS_DENIED = ["127.0.0.0/8", "::1/128"]
    with pytest.raises(ValidationError):
        policy.check_host("localhost")


def test_an_unresolvable_host_says_so() -> None:
    with pytest.raises(ValidationError, match="does not resolve"):
        policy.check_host("no-such-host.invalid")


@pytest.mark.parametrize("value", ["db=x", "a?sslmode=disable", "x&y", "nul\x00byte"])
def test_names_that_could_smuggle_options_are_refused(value: str, people: People) -> None:
    conn = Connection(team=people.acme, name="n", engine="postgresql", host="127.0.0.1", database=value, username=value)
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert {"database", "username"} <= set(info.value.message_dict)


def test_sqlite_files_outside_the_roots_are_refused(sqlite_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.sqlite3"
    outside.touch()
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(outside))
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(sqlite_root / ".." / "elsewhere.sqlite3"))


def test_a_symlink_cannot_escape_the_root(sqlite_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "secret.sqlite3"
    target.touch()
    (sqlite_root / "link.sqlite3").symlink_to(target)
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(sqlite_root / "link.sqlite3"))


def test_the_dashboards_own_database_is_never_a_connection(settings: Any, tmp_path: Path) -> None:
    own = tmp_path / "meta.sqlite3"
    settings.DATABASES = {**settings.DATABASES, "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(own)}}
    settings.DBDECK_SQLITE_ROOTS = [str(tmp_path)]
    for candidate in (own, Path(str(own) + "-wal")):
        with pytest.raises(ValidationError, match="own database"):
            policy.check_sqlite_path(str(candidate))


def test_relative_sqlite_paths_resolve_inside_the_first_root(sqlite_root: Path) -> None:
    assert policy.check_sqlite_path("demo.sqlite3") == (sqlite_root / "demo.sqlite3").resolve()


def test_connection_params_recheck_the_policy_at_connect_time(people: People) -> None:
    conn = Connection.objects.create(team=people.acme, name="meta", engine="postgresql", host="169.254.169.254")
    with pytest.raises(ValidationError):
        conn.params()
