"""SQLite backups: the online backup API into a private temp file (a consistent copy while others write),
then streamed to the sink; a restore writes the file beside the target and renames it into place."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import pathname2url

from connections.engines.base import EngineError, first_line, refuse_nul
from connections.engines.capabilities import Backup, Sink, Source
from connections.engines.results import BackupManifest, BackupScope, ObjectCount, RestoreReport

PART = "database.sqlite3"
CHUNK = 1 << 20


@contextlib.contextmanager
def _open(path: str, mode: str = "ro") -> Iterator[sqlite3.Connection]:
    refuse_nul(path)
    if mode == "ro" and not Path(path).is_file():
        raise EngineError(f"There is no SQLite file at {path!r}.", kind="database")
    try:
        db = sqlite3.connect(f"file:{pathname2url(path)}?mode={mode}", uri=True, timeout=10)
    except sqlite3.Error as exc:
        raise EngineError(f"SQLite could not open the file: {first_line(exc)}", kind="database") from None
    try:
        yield db
    finally:
        db.close()


def _quote(name: str) -> str:
    refuse_nul(name)
    return '"' + name.replace('"', '""') + '"'


class SQLiteBackup(Backup):
    method = "sqlite-backup-api"

    def _tables(self, db: sqlite3.Connection, scope: BackupScope) -> list[str]:
        rows = db.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        names = [r[0] for r in rows]
        if scope.everything:
            return names
        wanted = {o.rpartition(".")[2] for o in scope.objects}
        return [n for n in names if n in wanted or "main" in scope.namespaces]

    def _counts(self, db: sqlite3.Connection, tables: list[str]) -> list[ObjectCount]:
        out = []
        for name in tables:
            (n,) = db.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()  # noqa: S608 - quoted
            out.append(ObjectCount(f"main.{name}", "table", int(n)))
        return out

    def estimate(self, scope: BackupScope) -> int | None:
        try:
            return os.path.getsize(self.adapter.params.database)
        except OSError:
            return None

    def dump(self, scope: BackupScope, sink: Sink) -> BackupManifest:
        started = dt.datetime.now(dt.UTC)
        with tempfile.TemporaryDirectory(prefix="dbdeck-sqlite-") as tmp:
            os.chmod(tmp, 0o700)
            copy = os.path.join(tmp, "copy.sqlite3")
            with _open(self.adapter.params.database) as src, _open(copy, "rwc") as dst:
                try:
                    src.backup(dst, pages=4096)
                except sqlite3.Error as exc:
                    raise EngineError(f"SQLite's backup failed: {first_line(exc)}", kind="database") from None
                version = src.execute("SELECT sqlite_version()").fetchone()[0]
            with _open(copy) as db:
                objects = self._counts(db, self._tables(db, scope))
            with sink.part(PART) as out, open(copy, "rb") as fh:
                shutil.copyfileobj(fh, out, CHUNK)
        return BackupManifest(
            engine="sqlite",
            server_version=f"SQLite {version}",
            method=self.method,
            tool="sqlite3 (Python)",
            tool_version=sqlite3.sqlite_version,
            scope=scope,
            started_at=started,
            finished_at=dt.datetime.now(dt.UTC),
            objects=objects,
        )

    def restore(self, source: Source, manifest: BackupManifest, target: str, *, clean: bool = False) -> RestoreReport:
        """`target` is a file path; the file is written beside it and renamed into place when whole."""
        started = time.monotonic()
        path = Path(target or self.adapter.params.database)
        refuse_nul(str(path))
        if path.exists() and not clean:
            return RestoreReport(False, str(path), 0.0, error=f"{path} exists; restoring over it needs clean=True.")
        partial = path.with_name(path.name + ".restoring")
        digest = hashlib.sha256()
        try:
            with source.part(PART) as stream, open(partial, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            with _open(str(partial)) as db:
                ok = db.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise EngineError(f"The restored file fails SQLite's quick_check: {ok}", kind="database")
            partial.replace(path)
        except EngineError as exc:
            partial.unlink(missing_ok=True)
            return RestoreReport(False, str(path), (time.monotonic() - started) * 1000, error=exc.message)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return RestoreReport(True, str(path), (time.monotonic() - started) * 1000)

    def count(self, scope: BackupScope, target: str = "") -> list[ObjectCount]:
        with _open(target or self.adapter.params.database) as db:
            return self._counts(db, self._tables(db, scope))

    def scalar(self, query: str, target: str = "", timeout_s: float = 60.0) -> str:
        with _open(target or self.adapter.params.database) as db:
            db.execute("PRAGMA query_only = ON")
            try:
                row = db.execute(query).fetchone()
            except sqlite3.Error as exc:
                raise EngineError(f"SQLite said: {first_line(exc)}", kind="database") from None
            return "" if row is None else str(row[0])
