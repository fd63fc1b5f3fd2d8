"""PostgreSQL backups: `pg_dump -Fc` streamed, `pg_restore --exit-on-error`, exact counts in the dump's snapshot.

The client is chosen to match the server's major version among the installed ones
(/usr/lib/postgresql/*/bin, side by side); only an older one installed is an error naming
the package. Connection values travel in the child's environment (PGHOST, PGHOSTADDR for
the address the host policy approved, PGPASSWORD, ...), never argv; values that do go in
argv are written `--option=value`, so a name starting with `-` stays a name. The row counts
are taken in the very snapshot pg_dump reads (`--snapshot`), so they match what was dumped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
import re
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import psycopg2

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.dumptool import clean_env, dump_to, restore_from, tool_version
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport
from connections.engines.sqlbase import TAG

PART = "dump.pgcustom"
SYSTEM = ("pg_catalog", "information_schema", "pg_toast")


def installed_clients(pattern: str = "/usr/lib/postgresql/*/bin") -> list[tuple[int, Path]]:
    """(major, bin folder) of every installed client with pg_dump and pg_restore, newest first."""
    found = []
    for folder in glob.glob(pattern):
        path = Path(folder)
        major = re.search(r"/(\d+)/bin/?$", folder)
        if major and (path / "pg_dump").exists() and (path / "pg_restore").exists():
            found.append((int(major.group(1)), path))
    return sorted(found, reverse=True)


def choose_client(server_major: int, clients: list[tuple[int, Path]]) -> Path:
    """The client of the server's major version, else the oldest newer one; an older one only cannot dump."""
    usable = sorted((m, p) for m, p in clients if m >= server_major)
    if usable:
        return usable[0][1]
    newest = max((m for m, _ in clients), default=None)
    have = f"the newest installed is {newest}" if newest else "none is installed"
    raise EngineError(
        f"The server runs PostgreSQL {server_major} and needs pg_dump {server_major} or newer, but {have}: "
        f"install the Debian package postgresql-client-{server_major}.",
        kind="config",
    )


class PostgreSQLBackup(Backup):
    method = "pg_dump"
    client_pattern: ClassVar[str] = "/usr/lib/postgresql/*/bin"  # tests narrow it to simulate an old client

    # ---- connections -----------------------------------------------------------------
    def _params(self, database: str = "") -> Any:
        p = self.adapter.params
        return dataclasses.replace(p, database=database) if database else p

    def _connect(self, database: str = "") -> Any:
        p = self._params(database)
        refuse_nul(p.database, p.username, p.password)
        kwargs: dict[str, Any] = {
            "host": p.host,
            "port": p.port or 5432,
            "dbname": p.database or "postgres",
            "user": p.username or None,
            "password": p.password or None,
            "connect_timeout": max(2, int(p.connect_timeout)),
            "sslmode": p.tls_mode if p.tls_mode in ("disable", "prefer", "require", "verify-full") else "prefer",
            "application_name": "dbdeck-backup",
        }
        if p.address:
            kwargs["hostaddr"] = p.address
        try:
            return psycopg2.connect(**kwargs)
        except psycopg2.Error as exc:
            raise self.adapter._connect_error(exc, 0.0) from None

    def _env(self, database: str = "") -> dict[str, str]:
        p = self._params(database)
        return clean_env(
            {
                "PGHOST": p.host,
                "PGHOSTADDR": p.address,
                "PGPORT": str(p.port or 5432),
                "PGUSER": p.username,
                "PGPASSWORD": p.password,
                "PGDATABASE": p.database or "postgres",
                "PGSSLMODE": p.tls_mode if p.tls_mode in ("disable", "prefer", "require", "verify-full") else "prefer",
                "PGCONNECT_TIMEOUT": str(max(2, int(p.connect_timeout))),
                "PGAPPNAME": "dbdeck-backup",
            }
        )

    def _server_major(self, cur: Any) -> tuple[int, str]:
        cur.execute(TAG + "SELECT current_setting('server_version_num')::int, current_setting('server_version')")
        num, text = cur.fetchone()
        return num // 10000, text

    def client(self, server_major: int) -> Path:
        return choose_client(server_major, installed_clients(self.client_pattern))

    # ---- what a scope covers ----------------------------------------------------------
    def _tables(self, cur: Any, scope: BackupScope) -> list[tuple[str, str]]:
        cur.execute(
            TAG + "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%'"
            " ORDER BY 1, 2",
            [list(SYSTEM)],
        )
        tables = [(ns, name) for ns, name in cur.fetchall()]
        if scope.everything:
            return tables
        wanted = set(scope.objects)
        return [(ns, t) for ns, t in tables if ns in scope.namespaces or f"{ns}.{t}" in wanted]

    def _counts(self, cur: Any, tables: list[tuple[str, str]]) -> list[ObjectCount]:
        q = self.adapter.dialect.quote
        out = []
        for ns, name in tables:
            cur.execute(TAG + f"SELECT count(*) FROM {q(ns)}.{q(name)}")  # noqa: S608 - quoted identifiers
            out.append(ObjectCount(f"{ns}.{name}", "table", int(cur.fetchone()[0])))
        return out

    def estimate(self, scope: BackupScope) -> int | None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                tables = self._tables(cur, scope)
                if not tables:
                    return 0
                cur.execute(
                    TAG + "SELECT sum(pg_table_size(format('%%I.%%I', n, t)::regclass))::bigint"
                    " FROM unnest(%s::text[], %s::text[]) AS x(n, t)",
                    [[n for n, _ in tables], [t for _, t in tables]],
                )
                return int(cur.fetchone()[0] or 0)
        finally:
            conn.close()

    # ---- dump ---------------------------------------------------------------------------
    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        snap = self._connect()
        try:
            snap.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with snap.cursor() as cur:
                cur.execute(TAG + "SET statement_timeout = 0")
                major, version = self._server_major(cur)
                bindir = self.client(major)
                cur.execute(TAG + "SELECT pg_export_snapshot()")
                snapshot = cur.fetchone()[0]
                tables = self._tables(cur, scope)
            argv = [str(bindir / "pg_dump"), "--format=custom", "--compress=0", f"--snapshot={snapshot}"]
            argv += [f"--schema={ns}" for ns in scope.namespaces]
            argv += [f"--table={_table_pattern(o)}" for o in scope.objects]
            counts: list[ObjectCount] = []
            failure: list[BaseException] = []

            def count() -> None:  # in the exported snapshot, while pg_dump reads it
                try:
                    with snap.cursor() as cur:
                        counts.extend(self._counts(cur, tables))
                except BaseException as exc:
                    failure.append(exc)

            counter = threading.Thread(target=count, name="pg-counts", daemon=True)
            counter.start()
            try:
                with sink.part(PART) as out:
                    dump_to(argv, self._env(), out, "pg_dump")
            finally:
                counter.join()
            if failure:
                raise EngineError(f"Counting rows in the dump's snapshot failed: {failure[0]}", kind="database")
        finally:
            snap.close()
        return BackupManifest(
            engine="postgresql",
            server_version=f"PostgreSQL {version}",
            method=self.method,
            tool=str(bindir / "pg_dump"),
            tool_version=tool_version([str(bindir / "pg_dump"), "--version"]),
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=counts,
        )

    # ---- restore --------------------------------------------------------------------
    def create_target(self, target: str) -> None:
        conn = self._connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + "SELECT 1 FROM pg_database WHERE datname = %s", [target])
                if cur.fetchone() is None:
                    cur.execute(TAG + f"CREATE DATABASE {self.adapter.dialect.quote(target)}")
        finally:
            conn.close()

    def drop_target(self, target: str) -> None:
        conn = self._connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + f"DROP DATABASE IF EXISTS {self.adapter.dialect.quote(target)} WITH (FORCE)")
        finally:
            conn.close()

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        started = time.monotonic()
        self.create_target(target)
        conn = self._connect(target)
        try:
            with conn.cursor() as cur:
                major, _ = self._server_major(cur)
        finally:
            conn.close()
        bindir = self.client(major)
        argv = [str(bindir / "pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges"]
        if clean:
            argv += ["--clean", "--if-exists"]
        if self.adapter.params.extra.get("throwaway"):
            # A restore-test's own server (backups/sandbox.py): one transaction, so with wal_level=minimal the
            # tables it creates are written without WAL. Not for real servers: it holds every lock to the end.
            argv.append("--single-transaction")
        argv.append(f"--dbname={_conninfo_dbname()}")
        try:
            with source.part(PART) as stream:
                restore_from(argv, self._env(target), stream, "pg_restore")
        except EngineError as exc:
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=exc.message)
        return RestoreReport(True, target, (time.monotonic() - started) * 1000)

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        conn = self._connect(target)
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + "SET statement_timeout = 0")
                return self._counts(cur, self._tables(cur, scope))
        finally:
            conn.close()

    def scalar(self, query: str, target: str = "", timeout_s: float = 60.0) -> str:
        """The first column of the first row of a verification query, as text, in a read-only transaction."""
        conn = self._connect(target)
        try:
            conn.set_session(readonly=True)
            with conn.cursor() as cur:
                cur.execute(TAG + f"SET statement_timeout = {int(timeout_s * 1000)}")
                cur.execute(query)
                row = cur.fetchone() if cur.description else None
                return "" if row is None else str(row[0])
        except psycopg2.Error as exc:
            raise EngineError(f"PostgreSQL said: {str(exc).strip().splitlines()[0]}", kind="database") from None
        finally:
            conn.close()


def _table_pattern(obj: str) -> str:
    """`ns.table` as a pg_dump pattern that matches exactly that name (pattern characters quoted)."""
    ns, _, name = obj.partition(".")
    if not name:
        ns, name = "public", ns

    def exact(part: str) -> str:
        return '"' + part.replace('"', '""') + '"'

    return f"{exact(ns)}.{exact(name)}"


def _conninfo_dbname() -> str:
    """pg_restore needs -d to restore into a database; the name itself comes from PGDATABASE."""
    return "application_name=dbdeck-restore"
