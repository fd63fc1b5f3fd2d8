"""Where connections may point: metadata addresses, DSN-smuggling names, SQLite roots."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from connections import denylist, policy
from connections.models import Connection
from tests.fixtures import People, client_for, team_sqlite_dir

FORM_DEFAULTS = {"tls_mode": "prefer", "connect_timeout": "5", "statement_timeout": "30"}


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


def test_sqlite_files_outside_the_roots_are_refused(sqlite_root: Path, tmp_path: Path, people: People) -> None:
    outside = tmp_path / "elsewhere.sqlite3"
    outside.touch()
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(outside), team_id=people.acme.pk)
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(sqlite_root / ".." / "elsewhere.sqlite3"), team_id=people.acme.pk)


def test_a_symlink_cannot_escape_the_root(acme_sqlite_dir: Path, tmp_path: Path, people: People) -> None:
    target = tmp_path / "secret.sqlite3"
    target.touch()
    (acme_sqlite_dir / "link.sqlite3").symlink_to(target)
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(str(acme_sqlite_dir / "link.sqlite3"), team_id=people.acme.pk)


def test_the_dashboards_own_database_is_never_a_connection(settings: Any, tmp_path: Path) -> None:
    own = tmp_path / "7" / "meta.sqlite3"
    settings.DATABASES = {**settings.DATABASES, "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(own)}}
    settings.DBDECK_SQLITE_ROOTS = [str(tmp_path)]
    for candidate in (own, Path(str(own) + "-wal")):
        with pytest.raises(ValidationError, match="own database"):
            policy.check_sqlite_path(str(candidate), team_id=7)


def test_relative_sqlite_paths_resolve_inside_the_teams_folder_of_the_first_root(
    sqlite_root: Path, people: People
) -> None:
    expected = (sqlite_root / str(people.acme.pk) / "demo.sqlite3").resolve()
    assert policy.check_sqlite_path("demo.sqlite3", team_id=people.acme.pk) == expected


def test_each_team_gets_its_own_folder_under_every_root_on_demand(
    tmp_path: Path, settings: Any, people: People
) -> None:
    settings.DBDECK_SQLITE_ROOTS = [str(tmp_path / "a"), str(tmp_path / "b")]
    policy.check_sqlite_path("x.sqlite3", team_id=people.globex.pk)
    assert (tmp_path / "a" / str(people.globex.pk)).is_dir() and (tmp_path / "b" / str(people.globex.pk)).is_dir()
    assert not (tmp_path / "a" / str(people.acme.pk)).exists()


@pytest.mark.parametrize("how", ["absolute", "relative", "dotdot", "symlink", "symlinked folder"])
def test_globex_cannot_open_an_acme_sqlite_file(
    how: str, sqlite_root: Path, sqlite_file: Path, people: People, settings: Any
) -> None:
    globex_dir = team_sqlite_dir(sqlite_root, people.globex)
    raw = {
        "absolute": str(sqlite_file),
        "relative": f"../{people.acme.pk}/{sqlite_file.name}",
        "dotdot": str(globex_dir / ".." / str(people.acme.pk) / sqlite_file.name),
        "symlink": str(globex_dir / "borrowed.sqlite3"),
        "symlinked folder": str(globex_dir / "acme" / sqlite_file.name),
    }[how]
    (globex_dir / "borrowed.sqlite3").symlink_to(sqlite_file)
    (globex_dir / "acme").symlink_to(sqlite_file.parent, target_is_directory=True)
    with pytest.raises(ValidationError, match="must live under"):
        policy.check_sqlite_path(raw, team_id=people.globex.pk)
    conn = Connection(team=people.globex, name="stolen", engine="sqlite", database=raw)
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert "database" in info.value.message_dict
    saved = Connection.objects.create(team=people.globex, name="stolen", engine="sqlite", database=raw)
    with pytest.raises(ValidationError):
        saved.params()  # and a row written behind the form's back still cannot connect
    assert policy.check_sqlite_path(str(sqlite_file), team_id=people.acme.pk) == sqlite_file.resolve()


def test_saving_a_globex_sqlite_connection_to_an_acme_file_through_the_form_is_refused(
    sqlite_file: Path, people: People
) -> None:
    response = client_for(people.charlie).post(
        reverse("connections:create"),
        {"team": people.globex.pk, "name": "stolen", "engine": "sqlite", "database": str(sqlite_file)} | FORM_DEFAULTS,
    )
    assert response.status_code == 200
    assert "must live under" in response.content.decode()
    assert not Connection.objects.filter(name="stolen").exists()


def test_connection_params_recheck_the_policy_at_connect_time(people: People) -> None:
    conn = Connection.objects.create(team=people.acme, name="meta", engine="postgresql", host="169.254.169.254")
    with pytest.raises(ValidationError):
        conn.params()


# ---- every spelling of a denied address ------------------------------------------------------------
EMBEDDINGS = {
    "IPv4-mapped": "::ffff:169.254.169.254",
    "IPv4-compatible": "::169.254.169.254",
    "IPv4-translated (SIIT)": "::ffff:0:169.254.169.254",
    "NAT64 well-known prefix": "64:ff9b::169.254.169.254",
    "NAT64 local-use /96": "64:ff9b:1::a9fe:a9fe",
    "NAT64 local-use /48": "64:ff9b:1:a9fe:a9:fe00::",
    "6to4": "2002:a9fe:a9fe::1",
    "Teredo client (obfuscated)": "2001:0:4136:e378:8000:63bf:5601:5601",
    "Teredo server": "2001:0:a9fe:a9fe:8000:63bf:3fff:fdd2",
    "ISATAP interface id": "2001:db8::5efe:a9fe:a9fe",
    "ISATAP interface id, u/l bit set": "2001:db8::200:5efe:a9fe:a9fe",
    "decimal": "2852039166",
    "octal": "0251.0376.0251.0376",
    "hex": "0xA9FEA9FE",
    "hex dotted": "0xa9.0xfe.0xa9.0xfe",
    "short form": "169.254.43518",
}


@pytest.mark.parametrize("host", EMBEDDINGS.values(), ids=EMBEDDINGS.keys())
def test_every_spelling_of_the_metadata_address_is_refused(host: str) -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        policy.check_host(host)


def test_embedded_addresses_unwrap_to_what_they_reach() -> None:
    assert policy.forms("64:ff9b::10.0.0.1")[-1] == ipaddress.ip_address("10.0.0.1")
    assert policy.forms("2002:0a00:0001::1")[-1] == ipaddress.ip_address("10.0.0.1")
    # Teredo: the server, then the deobfuscated client (192.0.2.45 in RFC 4380's example).
    assert [str(ip) for ip in policy.forms("2001:0:4136:e378:8000:63bf:3fff:fdd2")[1:]] == [
        "65.54.227.120",
        "192.0.2.45",
    ]
    assert policy.forms("::1") == [ipaddress.ip_address("::1")]  # IPv6 loopback is not 0.0.0.1


def test_an_allow_list_is_matched_against_the_embedded_address(settings: Any) -> None:
    settings.DBDECK_HOSTS_ALLOWED = ["10.0.0.0/8"]
    assert policy.check_host("::ffff:10.1.2.3") == "::ffff:10.1.2.3"
    with pytest.raises(ValidationError):
        policy.check_host("::ffff:11.1.2.3")


CLOUD_ENDPOINTS = {
    "AWS IMDS": "169.254.169.254",
    "AWS IMDS IPv6": "fd00:ec2::254",
    "AWS ECS task metadata": "169.254.170.2",
    "AWS EKS pod identity": "169.254.170.23",
    "GCP metadata by name": "metadata.google.internal",
    "GCP metadata short name": "metadata",
    "GCP metadata IPv6": "fd20:ce::254",
    "Azure IMDS": "169.254.169.254",
    "Azure host (WireServer)": "168.63.129.16",
    "Alibaba metadata": "100.100.100.200",
    "Oracle metadata": "192.0.0.192",
    "DigitalOcean / Hetzner / OpenStack link-local": "169.254.169.254",
    "IBM Cloud metadata by name": "api.metadata.cloud.ibm.com",
    "Tencent metadata": "169.254.0.23",
    "Tencent metadata by name": "metadata.tencentyun.com",
    "Kubernetes API by name": "kubernetes.default.svc",
    "Kubernetes API, fully qualified": "kubernetes.default.svc.cluster.local.",
    "this network": "0.0.0.0",  # noqa: S104
    "this network, other host": "0.1.2.3",
    "unspecified IPv6": "::",
}


@pytest.mark.parametrize("host", CLOUD_ENDPOINTS.values(), ids=CLOUD_ENDPOINTS.keys())
def test_each_cloud_metadata_endpoint_is_refused(host: str) -> None:
    with pytest.raises(ValidationError, match="not allowed"):
        policy.check_host(host)


def test_the_default_denylist_is_the_documented_one_and_can_be_extended(settings: Any) -> None:
    from django.conf import settings as live

    assert set(denylist.DEFAULT_DENIED) <= set(live.DBDECK_HOSTS_DENIED)
    assert all(why for _, why in denylist.DENIED)  # every entry says what it protects
    settings.DBDECK_HOSTS_DENIED = [*denylist.DEFAULT_DENIED, "127.0.0.0/8"]
    with pytest.raises(ValidationError):
        policy.check_host("127.0.0.1")


def test_saving_a_connection_to_a_denied_host_through_the_form_is_refused_with_a_message(people: People) -> None:
    data = {"team": people.acme.pk, "name": "imds", "engine": "postgresql", "host": "2852039166", "port": "80"}
    response = client_for(people.alice).post(reverse("connections:create"), data | FORM_DEFAULTS)
    assert response.status_code == 200
    assert "not allowed by this server" in response.context["form"].errors["host"][0]
    assert not Connection.objects.filter(name="imds").exists()


def test_editing_a_connection_onto_a_denied_host_is_refused(people: People) -> None:
    conn = Connection.objects.create(team=people.acme, name="db", engine="postgresql", host="127.0.0.1")
    data = {"name": "db", "engine": "postgresql", "host": "64:ff9b::a9fe:a9fe", "port": "5432"}
    response = client_for(people.alice).post(reverse("connections:edit", args=[conn.pk]), data | FORM_DEFAULTS)
    assert "host" in response.context["form"].errors
    conn.refresh_from_db()
    assert conn.host == "127.0.0.1"


def test_a_host_that_does_not_resolve_yet_may_still_be_saved(people: People) -> None:
    conn = Connection(team=people.acme, name="later", engine="postgresql", host="db.not-yet.invalid")
    conn.full_clean()  # no ValidationError: connecting will say it does not resolve
    conn.save()
    assert Connection.objects.get(pk=conn.pk).host == "db.not-yet.invalid"
