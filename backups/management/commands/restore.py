"""Restore from an artifact and its manifest alone: backups outlive the dashboard.

    manage.py restore /var/backups/.../manifest.json --target postgresql://dbdeck@db:5432/shop_restored
    manage.py restore s3://bucket/prefix/plan-1/.../manifest.json --s3-endpoint https://s3.example --target "Shop DB"

The target is a saved connection (name or id, when dbdeck's database is there) or a URL
(postgresql://, mysql://, redis://, sqlite:///path) whose password comes from the environment
variable DBDECK_TARGET_PASSWORD, never the command line. S3 credentials come from the usual
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables. Encrypted artifacts need the same
DBDECK_BACKUP_KEYS they were made with. Nothing of dbdeck's own database is read for the
artifact: its manifest says everything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.management.base import BaseCommand, CommandError

from backups import manifest
from backups.destinations import LocalStore, S3Store, StoreError
from backups.pipeline import ChecksumMismatch
from backups.restore_tests import compare, restore_into
from connections.engines import EngineError, adapter_class
from connections.engines.base import ConnectionParams
from connections.engines.capabilities import Backup

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
SCHEMES |= {"redis": "redis", "sqlite": "sqlite", "mongodb": "mongodb"}


def _store(where: str, endpoint: str) -> tuple[Any, str]:
    if where.startswith("s3://"):
        import boto3
        from botocore.config import Config

        parts = urlsplit(where)
        key = parts.path.lstrip("/")
        prefix, _, name = key.rpartition("/")
        client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            config=Config(retries={"max_attempts": 10, "mode": "standard"}, s3={"addressing_style": "path"}),
        )
        return S3Store(client, parts.netloc, prefix), name
    path = Path(where)
    return LocalStore(path.parent), path.name


def target_params(target: str) -> tuple[ConnectionParams, str, str]:
    """(params, restore target name, what it is in words) for a URL; the password from the environment."""
    parts = urlsplit(target)
    engine = SCHEMES.get(parts.scheme)
    if engine is None:
        raise CommandError(f"Unknown target scheme {parts.scheme!r}: use {', '.join(sorted(SCHEMES))}.")
    if engine == "sqlite":
        path = unquote(parts.path)
        return ConnectionParams(engine="sqlite", database=path, tls_mode="disable"), path, f"SQLite file {path}"
    from connections.policy import check_host

    host = parts.hostname or ""
    cls = adapter_class(engine)
    port = parts.port or cls.default_port
    try:
        address = check_host(host, port)
    except Exception as exc:
        raise CommandError(f"The host policy refuses {host}: {exc}") from None
    database = unquote(parts.path.lstrip("/"))
    params = ConnectionParams(
        engine=engine,
        host=host,
        port=port,
        database=database,
        username=unquote(parts.username or ""),
        password=os.environ.get("DBDECK_TARGET_PASSWORD", ""),
        tls_mode="prefer" if engine == "postgresql" else "disable",
        statement_timeout=3600.0,
        address=address,
    )
    return params, database, f"{engine} {host}:{port}/{database}"


class Command(BaseCommand):
    help = "Restore a backup from its manifest (a path or s3:// URL) into a target connection or URL."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("manifest", help="manifest.json path or s3://bucket/key")
        parser.add_argument("--target", required=True, help="a saved connection (name or id) or a URL")
        parser.add_argument("--s3-endpoint", default="", help="the S3 endpoint of an s3:// manifest")
        parser.add_argument("--clean", action="store_true", help="replace what exists at the target")
        parser.add_argument("--dry-run", action="store_true", help="list what the backup holds; restore nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        store, name = _store(opts["manifest"], opts["s3_endpoint"])
        try:
            body = manifest.loads(store.get_bytes(name))
        except (StoreError, ValueError) as exc:
            raise CommandError(f"Cannot read the manifest: {exc}") from None
        made = manifest.from_dict(body)
        self.stdout.write(f"{made.engine} backup by {made.method} of {made.server_version}, {len(made.parts)} part(s)")
        for o in made.objects:
            self.stdout.write(f"  {o.kind} {o.name}: {o.count}")
        if opts["dry_run"]:
            return
        connection = None
        if "://" in opts["target"]:
            params, target, words = target_params(opts["target"])
        else:
            connection = self._connection(opts["target"])
            params, target, words = connection.params(), connection.database, f"connection {connection.name}"
        if params.engine != made.engine:
            raise CommandError(f"The backup is of {made.engine}; the target is {params.engine}.")
        adapter = adapter_class(params.engine)(params)
        with adapter:
            backup = adapter.get(Backup)
            if backup is None:
                raise CommandError(f"{adapter.display_name} has no restores.")
            try:
                report = restore_into(store, body, backup, target, clean=opts["clean"])
                if not report.ok:
                    raise CommandError(f"The restore stopped: {report.error}")
                checks = compare(made.objects, backup.count(made.scope, target))
            except (EngineError, StoreError, ChecksumMismatch, ValueError) as exc:
                raise CommandError(str(exc)) from None
        bad = [c for c in checks if not c["ok"]]
        for c in checks:
            self.stdout.write(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['name']}: {c['detail']}")
        self._audit(connection, opts["manifest"], words, not bad)
        if bad:
            raise CommandError(f"Restored into {words}, but {len(bad)} check(s) failed.")
        self.stdout.write(
            self.style.SUCCESS(f"Restored into {words} in {report.elapsed_ms / 1000:.1f} s; counts match.")
        )

    def _connection(self, ref: str) -> Any:
        from connections.models import Connection

        try:
            found = Connection.objects.filter(pk=int(ref)) if ref.isdigit() else Connection.objects.filter(name=ref)
            if found.count() != 1:
                raise CommandError(f"No single saved connection named {ref!r}; give its id or a URL.")
            return found.get()
        except CommandError:
            raise
        except Exception:
            raise CommandError("dbdeck's own database is not there: give the target as a URL.") from None

    @staticmethod
    def _audit(connection: Any, where: str, words: str, ok: bool) -> None:
        try:
            from audit.record import record

            record("backup.restore", connection=connection, target=where, into=words, ok=ok, via="manage.py restore")
        except Exception:  # dbdeck's database may be empty or absent: the restore stands on its own
            return
