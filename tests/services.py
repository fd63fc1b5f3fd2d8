"""Private, real servers for the test session and the benchmarks.

Each server runs on a free 127.0.0.1 port in its own temporary folder and is
stopped (its whole process group) at session end or interpreter exit.
PostgreSQL and MariaDB refuse to run as root, so they run as their own system
users. Passwords reach servers through files (0600) or the wire, never argv.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connections.engines.base import ConnectionParams

PG_BIN = Path("/usr/lib/postgresql/15/bin")
READY_TIMEOUT_S = 60.0


@dataclass
class Server:
    engine: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    database: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self, **overrides: Any) -> ConnectionParams:
        values: dict[str, Any] = {
            "engine": self.engine,
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.username,
            "password": self.password,
            "tls_mode": "disable",
            "connect_timeout": 5.0,
            "extra": dict(self.extra),
        }
        values.update(overrides)
        return ConnectionParams(**values)


@dataclass
class Servers:
    postgresql: Server
    mysql: Server
    redis: Server
    mongodb: Server
    s3: Server
    gcs: Server
    azure: Server


class ServerMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _venv_bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise ServerMissing(f"{name} is missing from {path.parent}: run `make install` (pip install -e '.[test]').")
    return str(path)


def _need(path: str | Path, package: str) -> str:
    if not Path(path).exists() and shutil.which(str(path)) is None:
        raise ServerMissing(f"{path} is missing: install the Debian package {package!r} (make test does, as root).")
    return str(path)


class Process:
    """One child server: started in its own process group, killed with it."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log: Path,
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name, self.log, self.stop_signal = name, log, stop_signal
        kwargs: dict[str, Any] = {}
        if user and os.geteuid() == 0:
            kwargs.update(user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[])
        with open(log, "ab") as output:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd=cwd,
                **kwargs,
            )

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, self.stop_signal)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait(process: Process, probe: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.proc.returncode}:\n{process.tail()}")
        try:
            probe()
            return
        except Exception as exc:  # not ready yet
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {READY_TIMEOUT_S:.0f} s ({last!r}):\n{process.tail()}")


def _private_dir(prefix: str, owner: str | None) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _secret_file(folder: Path, name: str, text: str, owner: str | None = None) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _run_as(argv: list[str], user: str | None, what: str) -> None:
    kwargs: dict[str, Any] = {}
    if user and os.geteuid() == 0:
        kwargs.update(user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def start_postgresql(stack: list[Process], dirs: list[Path]) -> Server:
    import psycopg2

    user = "postgres" if os.geteuid() == 0 else None
    _need(PG_BIN / "postgres", "postgresql-15")
    root = _private_dir("dbdeck-pg-", user)
    dirs.append(root)
    password = secrets.token_urlsafe(18)
    pwfile = _secret_file(root, "pwfile", password, user)
    data = root / "data"
    _run_as(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "dbdeck",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        ],
        user,
        "initdb",
    )
    pwfile.unlink()
    port = free_port()
    argv = [
        str(PG_BIN / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(root),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "shared_preload_libraries=pg_stat_statements",
        "-c",
        "pg_stat_statements.max=10000",  # the monitoring benchmark keeps 5,000 distinct statements
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "log_min_messages=warning",
    ]
    # SIGINT is PostgreSQL's fast shutdown; SIGTERM ("smart") waits for every client a test left open.
    process = Process("postgresql", argv, root / "server.log", user=user, stop_signal=signal.SIGINT)
    stack.append(process)

    def connect(dbname: str = "postgres") -> Any:
        return psycopg2.connect(
            host="127.0.0.1", port=port, user="dbdeck", password=password, dbname=dbname, connect_timeout=3
        )

    _wait(process, lambda: connect().close(), "PostgreSQL")
    conn = connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE dbdeck_test")
    conn.close()
    conn = connect("dbdeck_test")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        cur.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    conn.close()
    return Server("postgresql", "127.0.0.1", port, "dbdeck", password, "dbdeck_test", {"socket_dir": str(root)})


def start_mysql(stack: list[Process], dirs: list[Path]) -> Server:
    import pymysql

    user = "mysql" if os.geteuid() == 0 else None
    mariadbd = _need("/usr/sbin/mariadbd", "mariadb-server")
    install = _need(shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db", "mariadb-server")
    root = _private_dir("dbdeck-mariadb-", user)
    dirs.append(root)
    data, sock = root / "data", root / "mysqld.sock"
    argv_install = [
        install,
        "--no-defaults",
        f"--datadir={data}",
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        "--skip-name-resolve",
    ]
    if user:
        argv_install.append(f"--user={user}")
    _run_as(argv_install, user, "mariadb-install-db")
    port = free_port()
    argv = [
        mariadbd,
        "--no-defaults",
        f"--datadir={data}",
        f"--socket={sock}",
        f"--pid-file={root / 'mysqld.pid'}",
        f"--port={port}",
        "--bind-address=127.0.0.1",
        "--skip-log-bin",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=256M",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
        "--max-connections=200",
        f"--log-error={root / 'error.log'}",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        "--performance-schema=ON",  # statement digests for monitoring (MariaDB's default is off)
    ]
    if user:
        argv.append(f"--user={user}")
    process = Process("mariadb", argv, root / "server.log", user=user)
    stack.append(process)
    process.log = root / "error.log"
    _wait(process, lambda: pymysql.connect(unix_socket=str(sock), user="root", connect_timeout=3).close(), "MariaDB")
    password = secrets.token_urlsafe(18)
    conn = pymysql.connect(unix_socket=str(sock), user="root", autocommit=True)
    with conn.cursor() as cur:
        # mariadb-install-db leaves password-less root accounts that TCP could reach; root stays socket-only.
        cur.execute("SELECT Host FROM mysql.user WHERE User = 'root' AND Host <> 'localhost'")
        for (host,) in cur.fetchall():
            cur.execute("DROP USER %s@%s", ("root", host))
        for host in ("%", "localhost", "127.0.0.1"):
            cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", ("dbdeck", host, password))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION", ("dbdeck", host))
        cur.execute("CREATE DATABASE dbdeck_test CHARACTER SET utf8mb4")
    conn.close()
    return Server("mysql", "127.0.0.1", port, "dbdeck", password, "dbdeck_test", {"socket": str(sock)})


def start_redis(stack: list[Process], dirs: list[Path]) -> Server:
    import redis

    binary = _need("/usr/bin/redis-server", "redis-server")
    root = _private_dir("dbdeck-redis-", None)
    dirs.append(root)
    port, password = free_port(), secrets.token_urlsafe(18)
    conf = _secret_file(
        root,
        "redis.conf",
        "\n".join(
            [
                f"port {port}",
                "bind 127.0.0.1",
                f"dir {root}",
                'save ""',
                "appendonly no",
                "daemonize no",
                f"requirepass {password}",
                "databases 16",
                "maxmemory 2gb",
                "protected-mode yes",
            ]
        )
        + "\n",
    )
    process = Process("redis", [binary, str(conf)], root / "server.log")
    stack.append(process)
    _wait(
        process, lambda: redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2).ping(), "Redis"
    )
    return Server("redis", "127.0.0.1", port, "", password, "0")


def _ping(client: Any) -> None:
    with client:
        client.admin.command("ping")


def start_mongodb(stack: list[Process], dirs: list[Path]) -> Server:
    from pymongo import MongoClient

    binary = _venv_bin("secantusd-py")
    root = _private_dir("dbdeck-secantus-", None)
    dirs.append(root)
    port, password = free_port(), secrets.token_urlsafe(18)
    base = [
        binary,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(root / "data"),
        "--log-level",
        "WARNING",
    ]

    def client(**auth: Any) -> Any:
        return MongoClient(host="127.0.0.1", port=port, directConnection=True, serverSelectionTimeoutMS=3000, **auth)

    # Users are provisioned on an open server, which then restarts with --auth enforced.
    setup = Process("secantus-setup", base, root / "setup.log", cwd=root)
    try:
        _wait(setup, lambda: _ping(client()), "SecantusDB")
        with client() as c:
            c.admin.command("createUser", "dbdeck", pwd=password, roles=["root"])
    finally:
        setup.stop()
    process = Process("secantus", [*base, "--auth"], root / "server.log", cwd=root)
    stack.append(process)
    auth = {"username": "dbdeck", "password": password, "authSource": "admin"}
    _wait(process, lambda: _ping(client(**auth)), "SecantusDB (auth)")
    return Server("mongodb", "127.0.0.1", port, "dbdeck", password, "dbdeck_test", {"auth_source": "admin"})


def start_s3(stack: list[Process], dirs: list[Path]) -> Server:
    import boto3

    binary = _venv_bin("moto_server")
    root = _private_dir("dbdeck-moto-", None)
    dirs.append(root)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # The first three calls (create user, policy, key) run unauthenticated; then moto checks every signature.
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3", "MOTO_PORT": str(port)}
    process = Process("moto", [binary, "-H", "127.0.0.1", "-p", str(port)], root / "server.log", env=env)
    stack.append(process)

    def probe() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass

    _wait(process, probe, "moto S3 server")
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
        region_name="us-east-1",
    )
    iam.create_user(UserName="dbdeck")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="dbdeck", PolicyName="all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="dbdeck")["AccessKey"]
    return Server(
        "s3",
        "127.0.0.1",
        port,
        key["AccessKeyId"],
        key["SecretAccessKey"],
        "",
        {"region": "us-east-1", "endpoint_url": endpoint, "addressing_style": "path"},
    )


def _http_ok(url: str) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (a loopback URL built here)
        response.read()


def start_gcs(stack: list[Process], dirs: list[Path]) -> Server:
    """gcp-storage-emulator (PyPI), in memory: no authentication, and no paging (it ignores maxResults)."""
    _venv_bin("gcp-storage-emulator")  # installed with the test extras
    launcher = Path(__file__).resolve().parent / "gcs_emulator.py"  # the same server, without its O(N²) writes
    root = _private_dir("dbdeck-gcs-", None)
    dirs.append(root)
    port = free_port()
    argv = [sys.executable, str(launcher), "-d", str(root / "data"), "start", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--in-memory", "-q"]
    process = Process("gcp-storage-emulator", argv, root / "server.log", cwd=root)
    stack.append(process)
    _wait(process, lambda: _http_ok(f"http://127.0.0.1:{port}/"), "gcp-storage-emulator")
    return Server("gcs", "127.0.0.1", port, "", "", "", {"project": "dbdeck-test", "gcs_auth": "anonymous"})


AZURITE = Path(__file__).resolve().parent.parent / "var" / "node" / "node_modules" / "azurite" / "dist" / "src" / "blob"


def start_azure(stack: list[Process], dirs: list[Path]) -> Server:
    """Azurite's blob service (npm, installed by scripts/node-packages.sh), on the machine's Node.js."""
    import base64

    node = shutil.which("node")
    main = AZURITE / "main.js"
    if node is None or not main.exists():
        raise ServerMissing("Azurite is missing: run `bash scripts/node-packages.sh` (make test does).")
    root = _private_dir("dbdeck-azurite-", None)
    dirs.append(root)
    port = free_port()
    account, key = "dbdeck" + secrets.token_hex(3), base64.b64encode(secrets.token_bytes(32)).decode()
    # The account and its key reach Azurite through its environment, never argv.
    env = {**os.environ, "AZURITE_ACCOUNTS": f"{account}:{key}"}
    launcher = Path(__file__).resolve().parent / "azurite.js"  # the same server, without its O(N²) blob lookups
    argv = [
        node,
        str(launcher),
        str(main),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--silent",
        "--inMemoryPersistence",  # no --location then: the folder is only its working directory
        "--extentMemoryLimit",
        "2048",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--loose",
    ]
    process = Process("azurite", argv, root / "server.log", env=env, cwd=root)
    stack.append(process)

    def probe() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass

    _wait(process, probe, "Azurite")
    return Server("azure", "127.0.0.1", port, account, key, "", {"azure_auth": "key", "azure_url_style": "path"})


STARTERS: dict[str, Callable[[list[Process], list[Path]], Server]] = {
    "postgresql": start_postgresql,
    "mysql": start_mysql,
    "redis": start_redis,
    "mongodb": start_mongodb,
    "s3": start_s3,
    "gcs": start_gcs,
    "azure": start_azure,
}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # pytest then tears its fixtures down


class Stack:
    """Starts the servers concurrently and stops every one of them, whatever happened."""

    def __init__(self) -> None:
        self.processes: list[Process] = []
        self.dirs: list[Path] = []
        self._lock = threading.Lock()
        atexit.register(self.stop)
        # SIGTERM (e.g. from `timeout`) would otherwise end Python without finalizers or atexit, orphaning servers.
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)

    def start(self, engines: list[str] | None = None) -> dict[str, Server]:
        names = engines or list(STARTERS)
        results: dict[str, Server] = {}
        errors: dict[str, BaseException] = {}

        def run(name: str) -> None:
            # Registered under the lock when done, so a stop() racing a late thread still finds them (atexit).
            local: list[Process] = []
            local_dirs: list[Path] = []
            try:
                results[name] = STARTERS[name](local, local_dirs)
            except BaseException as exc:  # reported below, after every thread finished
                errors[name] = exc
            finally:
                with self._lock:
                    self.processes.extend(local)
                    self.dirs.extend(local_dirs)

        threads = [threading.Thread(target=run, args=(n,), name=f"start-{n}") for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.stop()
            details = "\n\n".join(f"{name}: {exc}" for name, exc in errors.items())
            raise RuntimeError(f"Could not start the test servers:\n{details}")
        return results

    def stop(self) -> None:
        with self._lock:
            processes, self.processes = self.processes, []
            dirs, self.dirs = self.dirs, []
        for process in reversed(processes):
            process.stop()
        for path in dirs:
            shutil.rmtree(path, ignore_errors=True)


def start_all(stack: Stack) -> Servers:
    servers = stack.start()
    return Servers(**servers)


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of a server (moto) that answers chosen requests with a fault.

    `fail(status, code, times, methods)` makes the next `times` matching requests answer `status`
    with an S3 error body (`SlowDown`, `InternalError`); everything else is forwarded unchanged.
    """

    def __init__(self, upstream: str) -> None:
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        target = urlsplit(upstream)
        proxy = self
        self.faults: list[tuple[int, str, set[str]]] = []
        self.served = self.failed = 0
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _fault(self) -> tuple[int, str] | None:
                with proxy._lock:
                    for i, (status, code, methods) in enumerate(proxy.faults):
                        if not methods or self.command in methods:
                            proxy.faults.pop(i)
                            proxy.failed += 1
                            return status, code
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = self._fault()
                if fault is not None:
                    status, code = fault
                    xml = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(xml)))
                    self.end_headers()
                    self.wfile.write(xml)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()
                with proxy._lock:
                    proxy.served += 1

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    def fail(self, status: int, code: str, times: int, methods: set[str] | None = None) -> None:
        with self._lock:
            self.faults.extend((status, code, set(methods or ())) for _ in range(times))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
