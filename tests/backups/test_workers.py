"""The production setup: real Celery workers on the private Redis broker, a metadata database of their own.

Two workers share the backups queue; two beats ticking at once queue a slot once; a worker
killed with SIGKILL mid-backup leaves a run the reaper fails as "worker lost", nothing partial
listed, and the next run on a fresh worker succeeds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import json, sys
from django.contrib.auth.models import User
from accounts.models import Team, Membership, Role
from connections.models import Connection
from backups.models import Destination, BackupPlan
args = json.loads(sys.argv[1])
team = Team.objects.create(name="Ops")
user = User.objects.create_user("ops", password="x-" + "y" * 20)
Membership.objects.create(user=user, team=team, role=Role.ADMIN)
c = Connection(team=team, name="pg", engine="postgresql", host=args["host"], port=args["port"],
               database=args["db"], username=args["user"], options={"tls_mode": "disable"})
c.set_secret(args["password"]); c.save()
d = Destination.objects.create(team=team, name="local", kind="local")
p = BackupPlan.objects.create(connection=c, name="p", destination=d, cron="0 0 1 1 *", restore_test_cron="")
print(json.dumps({"plan": p.pk, "user": user.pk}))
"""

QUEUE = """
import json, sys
from django.contrib.auth.models import User
from backups import runner
from backups.models import BackupPlan
args = json.loads(sys.argv[1])
runs = [runner.queue(BackupPlan.objects.get(pk=args["plan"]), user=User.objects.get(pk=args["user"])).pk
        for _ in range(args.get("n", 1))]
print(json.dumps(runs))
"""

STATE = """
import json, sys
from backups.models import BackupRun, Artifact
print(json.dumps([{"pk": r.pk, "status": r.status, "worker": r.worker, "error": r.error,
                   "artifact": Artifact.objects.filter(run=r).exists()} for r in BackupRun.objects.order_by("pk")]))
"""

TICK = """
import datetime as dt, json, sys
from django.utils import timezone
from backups.models import BackupPlan
from backups.tasks import run_tick
BackupPlan.objects.update(cron="*/1 * * * *", created_at=timezone.now() - dt.timedelta(days=1))
slot = dt.datetime.fromisoformat(sys.argv[1])
print(json.dumps(run_tick(slot)))
"""

REAP = """
import json
from backups.runner import reap
print(json.dumps(reap()))
"""


class Env:
    def __init__(self, tmp: Path, broker: str) -> None:
        self.env = {
            **os.environ,
            "DBDECK_VAR_DIR": str(tmp / "var"),
            "DBDECK_BACKUP_ROOT": str(tmp / "backups"),
            "DBDECK_BACKUP_KEYS": ",".join(settings.DBDECK_BACKUP_KEYS),
            "CELERY_BROKER_URL": broker,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self.workers: list[subprocess.Popen[bytes]] = []
        self.tmp = tmp

    def manage(self, *argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def script(self, code: str, *args: str, extra: dict[str, str] | None = None) -> Any:
        prelude = "import django; django.setup()\n"
        done = subprocess.run(
            [sys.executable, "-c", prelude + code, *args],
            cwd=ROOT,
            env={**self.env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "backups", "--concurrency=1", "-P", "solo"]
            + ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def wait(self, done: Any, timeout: float = 120) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.script(STATE)
            if done(state):
                return state
            time.sleep(1)
        logs = "\n".join(
            (self.tmp / f"w{i}.log").read_text()[-1500:] for i in range(1, 4) if (self.tmp / f"w{i}.log").exists()
        )
        raise AssertionError(f"timed out: {state}\n{logs}")

    def stop(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


@pytest.fixture
def prod(tmp_path: Path, servers: Any, pg_db: str) -> Iterator[tuple[Env, dict[str, int]]]:
    r = servers.redis
    broker = f"redis://:{r.password}@{r.host}:{r.port}/15"
    redis.Redis(host=r.host, port=r.port, password=r.password, db=15).flushdb()
    env = Env(tmp_path, broker)
    env.manage("migrate", "--verbosity=0")
    pg = servers.postgresql
    ids = env.script(
        SETUP,
        json.dumps({"host": pg.host, "port": pg.port, "db": pg_db, "user": pg.username, "password": pg.password}),
    )
    yield env, ids
    env.stop()


def test_two_workers_on_the_redis_broker_share_the_backups_queue(prod: tuple[Env, dict[str, int]]) -> None:
    env, ids = prod
    env.worker("w1")
    env.worker("w2")
    runs = env.script(QUEUE, json.dumps({**ids, "n": 4}))
    state = env.wait(lambda s: len(s) == 4 and all(r["status"] == "succeeded" for r in s))
    assert [r["pk"] for r in state] == runs and all(r["artifact"] for r in state)
    assert len({r["worker"] for r in state}) == 2, state  # both workers took runs


def test_two_beats_ticking_the_same_minute_queue_one_run(prod: tuple[Env, dict[str, int]]) -> None:
    env, _ = prod
    slot = "2026-12-01T10:00:30+00:00"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "import django; django.setup()\n" + TICK, slot],
            cwd=ROOT,
            env=env.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in procs]
    assert sorted(r["queued"] for r in results) == [0, 1]
    env.worker("w1")
    state = env.wait(lambda s: len(s) == 1 and s[0]["status"] == "succeeded")
    assert state[0]["artifact"]


def test_a_worker_killed_mid_backup_is_reaped_as_worker_lost_and_the_next_run_works(
    prod: tuple[Env, dict[str, int]], servers: Any, pg_db: str
) -> None:
    env, ids = prod
    pg = servers.postgresql
    locker = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg_db)
    with locker.cursor() as cur:  # pg_dump waits on this lock: the run stays mid-backup
        cur.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    worker = env.worker("w1")
    env.script(QUEUE, json.dumps(ids))
    env.wait(lambda s: len(s) == 1 and s[0]["status"] == "running")
    time.sleep(1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    locker.rollback()
    locker.close()
    reaped = env.script(REAP, extra={"DBDECK_BACKUP_HEARTBEAT_TIMEOUT_S": "0"})
    assert len(reaped) == 1
    [run] = env.script(STATE)
    assert run["status"] == "failed" and run["error"].startswith("Worker lost") and not run["artifact"]
    assert not list((env.tmp / "backups").rglob("*.zst*"))
    env.worker("w2")
    env.script(QUEUE, json.dumps(ids))
    state = env.wait(lambda s: len(s) == 2 and s[1]["status"] == "succeeded")
    assert state[1]["artifact"] and state[0]["status"] == "failed"
