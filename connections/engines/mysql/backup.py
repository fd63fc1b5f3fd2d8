"""MySQL / MariaDB backups: `mariadb-dump` (or `mysqldump`) per database, restored by the client, stopping at the
first error. Credentials go in a 0600 defaults file passed first (`--defaults-extra-file=`), never argv; the
host is the policy-approved address. One part per database (`<db>.sql`), dumped without `USE` so a restore can
target another name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from typing import Any

import pymysql

from connections.engines.base import EngineError, first_line, refuse_nul
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.dumptool import clean_env, dump_to, private_file, restore_from, tool_version
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport

SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")


def _tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise EngineError(f"{names[0]} is not installed: install the Debian package mariadb-client.", kind="config")


def _option(value: str) -> str:
    """A value in an option file: double-quoted, with backslash and quote escaped."""
    refuse_nul(value)
    if "\n" in value:
        raise EngineError("Credentials may not contain a line break.", kind="config")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class MySQLBackup(Backup):
    method = "mariadb-dump"

    def _params(self, database: str | None = None) -> Any:
        p = self.adapter.params
        return dataclasses.replace(p, database=database) if database is not None else p

    def _connect(self, database: str = "") -> Any:
        p = self.adapter.params
        refuse_nul(database, p.username, p.password)
        try:
            return pymysql.connect(
                host=p.address or p.host,
                port=p.port or 3306,
                user=p.username or None,
                password=p.password or "",
                database=database or None,
                connect_timeout=p.connect_timeout,
                charset="utf8mb4",
                local_infile=False,
                autocommit=True,
            )
        except pymysql.MySQLError as exc:
            raise self.adapter._connect_error(exc, 0.0) from None

    def _defaults(self) -> str:
        p = self.adapter.params
        lines = ["[client]", f"host={_option(p.address or p.host)}", f"port={int(p.port or 3306)}", "protocol=tcp"]
        lines += [f"user={_option(p.username)}"] if p.username else []
        lines += [f"password={_option(p.password)}"] if p.password else []
        return "\n".join(lines) + "\n"

    def _databases(self, cur: Any, scope: BackupScope) -> list[str]:
        if scope.namespaces:
            return list(scope.namespaces)
        if self.adapter.params.database:
            return [self.adapter.params.database]
        cur.execute("SHOW DATABASES")
        return [r[0] for r in cur.fetchall() if r[0] not in SYSTEM]

    def _tables(self, cur: Any, db: str, scope: BackupScope) -> list[str]:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'"
            " ORDER BY table_name",
            [db],
        )
        names = [r[0] for r in cur.fetchall()]
        wanted = {o.partition(".")[2] for o in scope.objects if o.partition(".")[0] == db}
        return [n for n in names if not scope.objects or n in wanted]

    def _counts(self, cur: Any, db: str, tables: list[str]) -> list[ObjectCount]:
        q = self.adapter.dialect.quote
        out = []
        for t in tables:
            cur.execute(f"SELECT COUNT(*) FROM {q(db)}.{q(t)}".replace("%%", "%"))  # noqa: S608 - quoted
            out.append(ObjectCount(f"{db}.{t}", "table", int(cur.fetchone()[0])))
        return out

    def estimate(self, scope: BackupScope) -> int | None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                dbs = self._databases(cur, scope)
                cur.execute(
                    "SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables WHERE table_schema IN %s",
                    [tuple(dbs) or ("",)],
                )
                return int(cur.fetchone()[0])
        finally:
            conn.close()

    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        tool = _tool("mariadb-dump", "mysqldump")
        conn = self._connect()
        objects: list[ObjectCount] = []
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                version = str(cur.fetchone()[0])
                dbs = self._databases(cur, scope)
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                per_db = {db: self._tables(cur, db, scope) for db in dbs}
                for db in dbs:
                    objects += self._counts(cur, db, per_db[db])
                cur.execute("COMMIT")
        finally:
            conn.close()
        with private_file(self._defaults(), ".cnf") as defaults:
            for db in dbs:
                argv = [tool, f"--defaults-extra-file={defaults}", "--single-transaction", "--routines", "--triggers"]
                argv += ["--events", "--hex-blob", "--quick", "--no-tablespaces", "--default-character-set=utf8mb4"]
                argv += ["--", db, *per_db[db]] if scope.objects else ["--", db]
                with sink.part(f"{db}.sql") as out:
                    dump_to(argv, clean_env({}), out, "mariadb-dump")
        return BackupManifest(
            engine="mysql",
            server_version=("MariaDB " if "mariadb" in version.lower() else "MySQL ") + version,
            method=self.method,
            tool=tool,
            tool_version=tool_version([tool, "--version"]),
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=objects,
            notes={"databases": ",".join(dbs)},
        )

    def create_target(self, target: str) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.adapter.dialect.quote(target)}".replace("%%", "%"))
        finally:
            conn.close()

    def drop_target(self, target: str) -> None:
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {self.adapter.dialect.quote(target)}".replace("%%", "%"))
        finally:
            conn.close()

    def _targets(self, manifest: BackupManifest, target: str) -> dict[str, str]:
        dbs = [d for d in manifest.notes.get("databases", "").split(",") if d]
        if len(dbs) == 1 and target:
            return {dbs[0]: target}
        return {d: d for d in dbs}

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        started = time.monotonic()
        client = _tool("mariadb", "mysql")
        mapping = self._targets(manifest, target)
        try:
            with private_file(self._defaults(), ".cnf") as defaults:
                for db, into in mapping.items():
                    if clean:
                        self.drop_target(into)
                    self.create_target(into)
                    argv = [client, f"--defaults-extra-file={defaults}", f"--database={into}", "--binary-mode"]
                    with source.part(f"{db}.sql") as stream:
                        restore_from(argv, clean_env({}), stream, "mariadb")
        except EngineError as exc:
            return RestoreReport(False, target, (time.monotonic() - started) * 1000, error=exc.message)
        return RestoreReport(True, target, (time.monotonic() - started) * 1000)

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        """Counts per table; in `target` (a restored copy under another name) every table it holds."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                if target:
                    return self._counts(cur, target, self._tables(cur, target, BackupScope()))
                out: list[ObjectCount] = []
                for db in self._databases(cur, scope):
                    out += self._counts(cur, db, self._tables(cur, db, scope))
                return out
        finally:
            conn.close()

    def scalar(self, query: str, target: str = "", timeout_s: float = 60.0) -> str:
        conn = self._connect(target)
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("START TRANSACTION READ ONLY")
                cur.execute(query)
                row = cur.fetchone()
                return "" if row is None else str(row[0])
        except pymysql.MySQLError as exc:
            raise EngineError(f"MariaDB said: {first_line(exc)}", kind="database") from None
        finally:
            conn.close()
