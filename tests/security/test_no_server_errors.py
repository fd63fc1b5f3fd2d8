"""No input gives a 500: every URL, every parameter the views read, hostile values, every role.

URL patterns come from the resolver and parameter names from the views' source,
so a new page or parameter joins the walk without anyone listing it. Path ids
point at real objects: a SQLite, a PostgreSQL and a Redis connection on the
test servers, Acme's team and a membership.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest
import redis
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Membership, Role
from connections.engines import cursor
from connections.models import Connection
from tests.fixtures import People
from tests.services import Servers

ROOT = Path(__file__).resolve().parents[2]
VIEW_SOURCES = ["accounts", "audit", "backups", "monitoring", "connections", "explorer", "config"]
# request.GET.get("x"), request.POST["x"], query.getlist("x"), form.get("x"), "x" in request.POST ...
PARAM_RE = re.compile(r"""(?:GET|POST|FILES|query|form|data)(?:\.get(?:list)?\(\s*|\[\s*)f?["']([^"'{]+)""")
IN_RE = re.compile(r"""["']([A-Za-z_][\w:]*)["']\s+(?:not\s+)?in\s+request\.(?:GET|POST)""")
SKIP_NAMESPACES = {"admin"}  # Django's own admin, superusers only
DB = 6  # the Redis database this walk may scribble on


FORM_MODULES = {"accounts": "accounts.forms", "connections": "connections.forms", "explorer": "explorer.forms"}


def form_fields(*apps: str) -> set[str]:
    """Fields of every form class in the apps' forms modules (all of them when none is named)."""
    import importlib

    names: set[str] = set()
    for app in apps or FORM_MODULES:
        module = importlib.import_module(FORM_MODULES[app])
        for value in vars(module).values():
            if isinstance(value, type) and hasattr(value, "base_fields"):
                names.update(value.base_fields)
    return names


def param_names() -> list[str]:
    """Every request parameter name the views read, found in their source, plus every form field."""
    names: set[str] = set()
    for package in VIEW_SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            if "engines" in path.parts or "migrations" in path.parts:
                continue
            text = path.read_text()
            names.update(PARAM_RE.findall(text))
            names.update(IN_RE.findall(text))
    names |= form_fields()
    # Per-column form fields (f"v:{column}") for the tables the walk's connections hold.
    names.update(f"{prefix}:{col}" for prefix in ("v", "null", "empty") for col in ("id", "name"))
    return sorted(n for n in names if n and not n.endswith(":"))


def names_in(path: Path) -> set[str]:
    text = path.read_text()
    return set(PARAM_RE.findall(text)) | set(IN_RE.findall(text))


def view_params(name: str) -> list[str]:
    """The parameters the view behind `name` reads in its own module (plus its app's forms), tried most often."""
    callback = next(p.callback for n, _, p in PATTERNS if n == name)
    module = Path(sys.modules[getattr(callback, "__module__", "")].__file__ or "")
    names = names_in(module) if module.is_file() else set()
    if "explorer" in module.parts:
        names |= form_fields("explorer")  # explorer views read every parameter through explorer/forms.py
    if "connections" in module.parts or "accounts" in module.parts:
        names |= form_fields("accounts", "connections")
    return sorted(n for n in names if n and not n.endswith(":")) or PARAMS


def url_routes() -> list[tuple[str, str, URLPattern]]:
    """(name, full route, pattern) of every URL pattern outside Django's admin."""
    found: list[tuple[str, str, URLPattern]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace in SKIP_NAMESPACES:
                    continue
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                found.append((f"{namespace}{p.name or ''}", prefix + str(p.pattern), p))

    walk(get_resolver().url_patterns, "", "")
    return found


PATTERNS = url_routes()
ROUTES = [(name, route) for name, route, _ in PATTERNS]
PARAMS = param_names()


def test_the_walk_finds_the_pages_and_parameters_the_views_read() -> None:
    names = {name for name, _ in ROUTES}
    assert {"connections:detail", "connections:move", "explorer:record", "explorer:key_edit", "audit:list"} <= names
    assert {"ns", "obj", "key", "after", "before", "fc", "fo", "fv", "ttl", "expires", "max_rows", "confirm"} <= set(
        PARAMS
    )
    assert {"team", "host", "port", "database", "secret", "connect_timeout"} <= set(PARAMS)


# ---- hostile values -----------------------------------------------------------------------------
def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
TAGS = ["$b", "$dt", "$d", "$t", "$td", "$dec", "$u", "$i", "$o", "$s", "$oid", "$d128", "$x"]
tagged = st.builds(lambda tag, v: {tag: v}, st.sampled_from(TAGS), json_values)
NUMBERS = ["99999999999999999999", "9223372036854775808", "-1", "-9223372036854775809", "0", "1e309", "NaN"]
NUMBERS += ["inf", "0x10", "1_000", "²", "١٢", "５", "٣.٥", " 7 ", "+3", "1" * 400]

hostile_text = st.one_of(
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4),  # '١٢', '５'
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "So", "Lo", "Mn"]), max_size=12),  # lone surrogates too
    st.text(max_size=20).map(lambda s: s[:5] + "\x00" + s[5:]),
    st.integers(-(2**90), 2**90).map(str),
    st.sampled_from(NUMBERS),
    st.sampled_from(NUMBERS),
    st.text(alphabet="ABCxyz019-_=+/!%", max_size=40),  # malformed base64
    json_values.map(lambda v: b64(json.dumps(v).encode())),  # valid base64, JSON of the wrong shape
    tagged.map(lambda v: b64(json.dumps(v).encode())),  # wrong and malformed tags
    json_values.map(cursor.encode),  # well-formed tokens of any value
    st.integers(1, 100_000).map(lambda n: b64(("[" * n + "]" * n).encode())),  # deep nesting
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),  # deep JSON as a filter
    st.sampled_from(['{"$where": "sleep(1000)"}', '{"$function": {}}', "<script>alert(1)</script>", "' OR 1=1 --"]),
    st.just("x" * 1_000_000),
)


def params_for(own: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(own), st.sampled_from(PARAMS))
    return st.lists(st.tuples(names, hostile_text), max_size=6)


def form_encode(pairs: list[tuple[str, str]]) -> str:
    """URL-encode like a browser would, keeping lone surrogates as the bytes a client could send."""

    def enc(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)


# ---- the world the walk points at -----------------------------------------------------------------
@dataclass
class World:
    people: People
    connections: dict[str, Connection]
    member_pk: int


@pytest.fixture(scope="module")
def prepared(servers: Servers) -> Servers:
    """Tables and keys on the real servers, made once for the whole walk."""
    pg = servers.postgresql
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    with db.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS walk CASCADE; CREATE SCHEMA walk")
        cur.execute("CREATE TABLE walk.t (id bigint PRIMARY KEY, name text)")
        cur.execute("CREATE TABLE walk.nokey (name text)")
        cur.execute("INSERT INTO walk.t SELECT g, 'row ' || g FROM generate_series(1, 5) g")
        cur.execute("INSERT INTO walk.nokey SELECT 'row ' || g FROM generate_series(1, 5) g")
    db.close()
    rs = servers.redis
    r = redis.Redis(host=rs.host, port=rs.port, password=rs.password, db=DB)
    r.flushdb()
    r.set("k", "v")
    r.rpush("list", "a", "b")
    r.hset("hash", "f", "v")
    r.zadd("zset", {"m": 1})
    r.xadd("stream", {"f": "v"})
    r.close()
    return servers


@pytest.fixture
def targets(prepared: Servers, sqlite_file: Path) -> dict[str, dict[str, Any]]:
    pg, rs = prepared.postgresql, prepared.redis
    return {
        "sqlite": {"engine": "sqlite", "database": str(sqlite_file)},
        "postgresql": {
            "engine": "postgresql",
            "host": pg.host,
            "port": pg.port,
            "database": pg.database,
            "username": pg.username,
            "secret": pg.password,
        },
        "redis": {"engine": "redis", "host": rs.host, "port": rs.port, "database": str(DB), "secret": rs.password},
    }


def ensure_world(people: People, targets: dict[str, dict[str, Any]]) -> World:
    """Put back whatever the previous example deleted or changed (a delete or a role change is allowed)."""
    roles = {people.alice: Role.ADMIN, people.bob: Role.EDITOR, people.carol: Role.VIEWER}
    for user, role in roles.items():
        Membership.objects.update_or_create(user=user, team=people.acme, defaults={"role": role})
    Membership.objects.update_or_create(user=people.charlie, team=people.globex, defaults={"role": Role.ADMIN})
    Membership.objects.filter(user=people.charlie, team=people.acme).delete()
    connections = {}
    for engine, fields in targets.items():
        fields = dict(fields)
        secret = fields.pop("secret", "")
        conn = Connection.objects.filter(team=people.acme, name=f"walk {engine}").first()
        if conn is None:
            conn = Connection(team=people.acme, name=f"walk {engine}", options={"tls_mode": "disable"}, **fields)
            conn.set_secret(secret)
            conn.save()
        connections[engine] = conn
    member_pk = Membership.objects.get(user=people.carol, team=people.acme).pk
    return World(people, connections, member_pk)


HUGE_IDS = ["99999999999999999999", "9223372036854775808", "0", "00000000000000000001", "١٢"]


def fill(route: str, world: World, engine: str, hostile_id: str | None) -> str:
    """The route with real ids in its placeholders (or, sometimes, an id that fits nothing)."""
    values = {
        "pk": world.connections[engine].pk,
        "member_pk": world.member_pk,
        "export_pk": 1,
    }
    if route.startswith("teams/"):
        values["pk"] = world.people.acme.pk

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        return hostile_id if hostile_id is not None else quote(str(values.get(name, 1)), safe="")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", one, route)


ROLES = ["alice", "bob", "carol", "charlie", None]


@pytest.mark.parametrize(("name", "route"), ROUTES, ids=[name or route for name, route in ROUTES])
def test_no_hostile_request_gets_a_server_error(
    name: str, route: str, people: People, targets: dict[str, dict[str, Any]]
) -> None:
    probe = Client(raise_request_exception=False)
    probe.force_login(people.alice)

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        who=st.sampled_from(ROLES),
        method=st.sampled_from(["GET", "POST"]),
        engine=st.sampled_from(["sqlite", "postgresql", "redis"]),
        hostile_id=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(HUGE_IDS)),
        query=params_for(view_params(name)),
        body=params_for(view_params(name)),
    )
    def walk(
        who: str | None,
        method: str,
        engine: str,
        hostile_id: str | None,
        query: list[tuple[str, str]],
        body: list[tuple[str, str]],
    ) -> None:
        world = ensure_world(people, targets)
        path = fill(route, world, engine, hostile_id)
        client = Client(raise_request_exception=False)  # fresh each time: a logout must not leak into the next
        if who is not None:
            client.force_login(getattr(people, who))
        extra = {"QUERY_STRING": form_encode(query)}
        if method == "GET":
            response = client.get(path, **extra)
        else:
            data = form_encode(body).encode()
            response = client.post(path, data, content_type="application/x-www-form-urlencoded", **extra)
        assert response.status_code < 500, (method, path, who, query[:3], body[:3], response.status_code)
        assert probe.get(reverse("connections:list")).status_code == 200

    walk()
