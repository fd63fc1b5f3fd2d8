"""Ephemeral private servers for restore-tests, started by the worker itself and removed afterwards.

Each runs from the installed server binaries in a fresh 0700 temp folder, on a free loopback
port, with a random password given through a 0600 file (never argv), as its own system user
when the worker is root (PostgreSQL and MariaDB refuse root). `ephemeral(engine, version)`
yields the ConnectionParams of the server and stops its whole process group on the way out.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from connections.engines.base import ConnectionParams, EngineError

READY_S = 60.0
ENGINES = ("postgresql", "mysql", "redis", "sqlite")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(user: str | None) -> dict[str, Any]:
    if user and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    return {}


def _folder(owner: str | None) -> Path:
    from django.conf import settings

    base = settings.DBDECK_SANDBOX_DIR or None
    path = Path(tempfile.mkdtemp(prefix="dbdeck-sandbox-", dir=base))
    os.chmod(path, 0o700)
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _secret(folder: Path, name: str, text: str, owner: str | None) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _run(argv: list[str], user: str | None, what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False, **_as_user(user))
    if done.returncode != 0:
        said = (done.stderr or done.stdout)[-1500:].strip()
        raise EngineError(f"The sandbox's {what} failed: {said}", kind="config")


@contextlib.contextmanager
def _server(argv: list[str], folder: Path, user: str | None, probe: Callable[[], object], what: str) -> Iterator[None]:
    log = open(folder / "server.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **_as_user(user)
    )
    log.close()
    try:
        deadline = time.monotonic() + READY_S
        while True:
            if proc.poll() is not None:
                tail = (folder / "server.log").read_text(errors="replace")[-1500:]
                raise EngineError(f"The sandbox {what} exited at start: {tail}", kind="config")
            try:
                probe()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"The sandbox {what} was not ready within {READY_S:.0f} s.", kind="timeout"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT if what == "PostgreSQL" else signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def pg_bindir(version_text: str) -> Path:
    """The installed server of the artifact's major version, else the newest installed one."""
    found = sorted(
        (int(m.group(1)), Path(p))
        for p in Path("/usr/lib/postgresql").glob("*/bin")
        if (m := re.search(r"/(\d+)/bin$", str(p))) and (Path(p) / "initdb").exists()
    )
    if not found:
        raise EngineError("No PostgreSQL server is installed for sandboxes: install postgresql.", kind="config")
    major = re.search(r"(\d+)", version_text or "")
    for m, path in found:
        if major and m == int(major.group(1)):
            return path
    newer = [p for m, p in found if not major or m >= int(major.group(1))]
    if not newer:
        raise EngineError(
            f"The backup is of {version_text}, newer than every installed server: install postgresql-{major.group(1)}.",  # type: ignore[union-attr]
            kind="config",
        )
    return newer[0]


# A restore-test's server lives for one restore and is deleted: no durability, no WAL beyond what crash
# recovery of nothing needs. wal_level=minimal lets a restore in one transaction skip WAL for the
# tables it creates (PostgreSQL 13+), and one transaction holds a lock per table and index.
THROWAWAY_POSTGRESQL = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "full_page_writes=off",
    "synchronous_commit=off",
    "wal_level=minimal",
    "max_wal_senders=0",
    "max_wal_size=8GB",
    "checkpoint_timeout=1h",
    "autovacuum=off",
    "maintenance_work_mem=256MB",
    "max_locks_per_transaction=1024",
)


@contextlib.contextmanager
def postgresql(version_text: str = "") -> Iterator[ConnectionParams]:
    import psycopg2

    user = "postgres" if os.geteuid() == 0 else None
    bindir = pg_bindir(version_text)
    folder = _folder(user)
    try:
        password = secrets.token_urlsafe(18)
        pwfile = _secret(folder, "pwfile", password, user)
        data = folder / "data"
        _run(
            [
                str(bindir / "initdb"),
                f"--pgdata={data}",
                "--username=dbdeck",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ],
            user,
            "initdb",
        )
        pwfile.unlink()
        port = free_port()
        argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder)]
        for setting in THROWAWAY_POSTGRESQL:
            argv += ["-c", setting]

        def probe() -> None:
            psycopg2.connect(
                host="127.0.0.1", port=port, user="dbdeck", password=password, dbname="postgres", connect_timeout=2
            ).close()

        with _server(argv, folder, user, probe, "PostgreSQL"):
            yield ConnectionParams(
                engine="postgresql",
                host="127.0.0.1",
                port=port,
                database="postgres",
                username="dbdeck",
                password=password,
                tls_mode="disable",
                statement_timeout=3600.0,
                extra={"throwaway": True},
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def mysql(version_text: str = "") -> Iterator[ConnectionParams]:
    import pymysql

    user = "mysql" if os.geteuid() == 0 else None
    install = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    if not Path(mariadbd).exists():
        raise EngineError("No MariaDB server is installed for sandboxes: install mariadb-server.", kind="config")
    folder = _folder(user)
    try:
        data, sock = folder / "data", folder / "mysqld.sock"
        argv = [install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=socket"]
        argv += ["--skip-test-db", "--skip-name-resolve"] + ([f"--user={user}"] if user else [])
        _run(argv, user, "mariadb-install-db")
        port = free_port()
        argv = [mariadbd, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--port={port}"]
        argv += [f"--pid-file={folder / 'mysqld.pid'}", "--bind-address=127.0.0.1", "--skip-log-bin"]
        argv += ["--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0", f"--log-error={folder / 'error.log'}"]
        argv += [f"--user={user}"] if user else []

        def probe() -> None:
            pymysql.connect(unix_socket=str(sock), user="root", connect_timeout=2).close()

        with _server(argv, folder, user, probe, "MariaDB"):
            password = secrets.token_urlsafe(18)
            conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
            with conn.cursor() as cur:
                cur.execute("CREATE USER 'dbdeck'@'127.0.0.1' IDENTIFIED BY %s", (password,))
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'dbdeck'@'127.0.0.1' WITH GRANT OPTION")
            conn.close()
            yield ConnectionParams(
                engine="mysql",
                host="127.0.0.1",
                port=port,
                username="dbdeck",
                password=password,
                tls_mode="disable",
                statement_timeout=3600.0,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def redis(version_text: str = "") -> Iterator[ConnectionParams]:
    import redis as redis_py

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise EngineError("No redis-server is installed for sandboxes: install redis-server.", kind="config")
    folder = _folder(None)
    try:
        port, password = free_port(), secrets.token_urlsafe(18)
        lines = [f"port {port}", "bind 127.0.0.1", f"dir {folder}", 'save ""', "appendonly no"]
        lines += [f"requirepass {password}", "protected-mode yes", "databases 16"]
        conf = _secret(folder, "redis.conf", "\n".join(lines) + "\n", None)

        def probe() -> None:
            redis_py.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2).ping()

        with _server([binary, str(conf)], folder, None, probe, "Redis"):
            yield ConnectionParams(
                engine="redis", host="127.0.0.1", port=port, database="0", password=password, tls_mode="disable"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def sqlite(version_text: str = "") -> Iterator[ConnectionParams]:
    folder = _folder(None)
    try:
        yield ConnectionParams(engine="sqlite", database=str(folder / "restored.sqlite3"), tls_mode="disable")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


STARTERS: dict[str, Callable[[str], contextlib.AbstractContextManager[ConnectionParams]]] = {
    "postgresql": postgresql,
    "mysql": mysql,
    "redis": redis,
    "sqlite": sqlite,
}


def ephemeral(engine: str, version_text: str = "") -> contextlib.AbstractContextManager[ConnectionParams]:
    if engine not in STARTERS:
        raise EngineError(f"No ephemeral sandbox for {engine}: tag a connection as sandbox.", kind="config")
    return STARTERS[engine](version_text)
