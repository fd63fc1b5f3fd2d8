"""Backups: a PostgreSQL database of about 1 GB (DBDECK_BENCH_BACKUP_MB) backed up by dbdeck's pipeline.

- throughput to the local destination and to moto S3, against bare `pg_dump -Fc -Z0 | zstd -3 > /dev/null`
  on the same database in the same run (cases alternate, one warm-up each, median of >= 7): target >= 0.85x;
  and, to separate dbdeck's cost from moto's, the S3 backup against the same bare pipeline uploaded into
  the same moto by boto3 (information);
- the backup worker's peak RSS (each dbdeck sample runs in its own process, which reports its VmHWM): < 200 MB.
  Not wait4's ru_maxrss: Linux carries the parent's RSS at fork over exec into the child's maxrss, so it
  read the benchmark's own size (which grows with boto3's read-ahead in the bare S3 case), not the worker's;
- the restore-test (ephemeral server + download + decrypt + decompress + restore + verify) against a bare
  `pg_restore` of the same dump into an empty database: target <= 1.3x.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SAMPLES = int(os.environ.get("DBDECK_BENCH_SAMPLES", "7"))
SIZE_MB = int(os.environ.get("DBDECK_BENCH_BACKUP_MB", "1024"))

ONE_RUN = """
import json, sys, time
import django; django.setup()
from backups import runner
from backups.models import BackupPlan, BackupRun
plan = BackupPlan.objects.get(pk=int(sys.argv[1]))
run = BackupRun.objects.create(plan=plan)
started = time.perf_counter()
outcome = runner.execute(run.pk)
elapsed = time.perf_counter() - started
run.refresh_from_db()
with open("/proc/self/status") as status:  # this process's own high-water mark since exec
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "error": run.error, "s": elapsed, "read": run.bytes_read, "run": run.pk,
                  "hwm_kib": hwm}))
"""

ONE_TEST = """
import json, sys, time
import django; django.setup()
from backups import restore_tests
from backups.models import Artifact, RestoreTest
artifact = Artifact.objects.get(pk=int(sys.argv[1]))
test = RestoreTest.objects.create(artifact=artifact, plan=artifact.plan)
started = time.perf_counter()
outcome = restore_tests.execute(test.pk)
elapsed = time.perf_counter() - started
test.refresh_from_db()
print(json.dumps({"outcome": outcome, "error": test.error, "s": elapsed, "rto": test.rto_seconds}))
"""


def _child(code: str, arg: str) -> dict[str, Any]:
    """Run a sample in its own process and return what it printed."""
    proc = subprocess.run([sys.executable, "-c", code, arg], cwd=ROOT, stdout=subprocess.PIPE, env=os.environ.copy())
    if proc.returncode != 0:
        raise RuntimeError(f"bench sample failed ({proc.returncode})")
    data = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    if data["outcome"] not in ("succeeded",):
        raise RuntimeError(f"bench sample did not succeed: {data}")
    return data


def _load(server: Any, dbname: str) -> None:
    import psycopg2

    admin = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        cur.execute(f'CREATE DATABASE "{dbname}"')
    admin.close()
    conn = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=dbname
    )
    rows = SIZE_MB * 1024 * 1024 // 160
    with conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_orders (id bigint, customer int, status text, amount numeric(12, 2),"
            " created timestamptz, note text)"
        )
        cur.execute(
            "INSERT INTO bench_orders SELECT g, (g::bigint * 7919) %% 100000,"
            " (ARRAY['new','paid','shipped','done'])[g %% 4 + 1],"
            " (g %% 100000) / 100.0, now() - (g || ' seconds')::interval,"
            " md5(g::text) || ' ' || md5((g::bigint * 31)::text) || ' note'"
            " FROM generate_series(1, %s) g",
            [rows],
        )
        cur.execute("ALTER TABLE bench_orders ADD PRIMARY KEY (id)")
        cur.execute("ANALYZE bench_orders")
    conn.close()


def _bare_dump(server: Any, dbname: str, s3: Any = None) -> float:
    """`pg_dump -Fc -Z0 | zstd -3` to /dev/null, or with `s3` (client, bucket) into moto through boto3's
    `upload_fileobj` in 8 MB parts, one upload at a time (s3transfer reads the next part meanwhile;
    dbdeck's writer sends each part as it fills, so this reference is, if anything, kinder to itself)."""
    env = {**os.environ, "PGPASSWORD": server.password}
    started = time.perf_counter()
    dump = subprocess.Popen(
        [
            str(PG_BIN / "pg_dump"),
            "-Fc",
            "-Z0",
            "-h",
            server.host,
            "-p",
            str(server.port),
            "-U",
            server.username,
            dbname,
        ],
        stdout=subprocess.PIPE,
        env=env,
    )
    with open(os.devnull, "wb") as null:
        out = null if s3 is None else subprocess.PIPE
        zstd = subprocess.Popen(["zstd", "-3", "-q", "-c"], stdin=dump.stdout, stdout=out)
        if s3 is not None:
            from boto3.s3.transfer import TransferConfig

            client, bucket = s3
            config = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=1)
            client.upload_fileobj(zstd.stdout, bucket, "bare/dump.pgcustom.zst", Config=config)
        zstd.wait()
    assert dump.stdout is not None
    dump.stdout.close()
    if dump.wait() != 0 or zstd.returncode != 0:
        raise RuntimeError("bare pg_dump | zstd failed")
    return time.perf_counter() - started


def _bare_restore(server: Any, dump_file: Path, n: int) -> float:
    import psycopg2

    admin = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname="postgres"
    )
    admin.autocommit = True
    name = f"bench_restore_{n}"
    env = {**os.environ, "PGPASSWORD": server.password}
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        started = time.perf_counter()
        cur.execute(f'CREATE DATABASE "{name}"')
        subprocess.run(
            [str(PG_BIN / "pg_restore"), "--exit-on-error", "--no-owner", "-h", server.host, "-p", str(server.port)]
            + ["-U", server.username, "-d", name, str(dump_file)],
            env=env,
            check=True,
        )
        elapsed = time.perf_counter() - started
        cur.execute(f'DROP DATABASE "{name}"')
    admin.close()
    return elapsed


def run(servers: dict[str, Any]) -> list[Result]:
    from django.conf import settings

    from accounts.models import Team
    from backups.models import Artifact, BackupPlan, Destination
    from backups.restore_tests import restore_into  # noqa: F401 - the restore-test path is what is measured
    from connections.models import Connection

    pg, s3 = servers["postgresql"], servers["s3"]
    dbname = "bench_backups"
    print(f"  loading about {SIZE_MB} MB into PostgreSQL ...", flush=True)
    _load(pg, dbname)
    team, _ = Team.objects.get_or_create(name="Bench backups")
    os.environ["DBDECK_BACKUP_ROOT"] = str(Path(tempfile.mkdtemp(prefix="dbdeck-bench-backups-")))
    settings.DBDECK_BACKUP_ROOT = Path(os.environ["DBDECK_BACKUP_ROOT"])
    source = Connection(
        team=team, name="bench pg", engine="postgresql", host=pg.host, port=pg.port, database=dbname,
        username=pg.username, options={"tls_mode": "disable"},
    )  # fmt: skip
    source.set_secret(pg.password)
    source.save()
    host, port = s3.extra["endpoint_url"].rsplit("//", 1)[1].split(":")
    s3conn = Connection(
        team=team, name="bench s3", engine="s3", host=host, port=int(port), username=s3.username,
        options={"tls_mode": "disable", "region": "us-east-1", "addressing_style": "path"},
    )  # fmt: skip
    s3conn.set_secret(s3.password)
    s3conn.save()
    from backups.destinations import s3_client_for

    s3_client_for(s3conn).create_bucket(Bucket="bench-backups")
    local = Destination.objects.create(team=team, name="local", kind="local")
    remote = Destination.objects.create(team=team, name="s3", kind="s3", s3_connection=s3conn, bucket="bench-backups")
    common = {"connection": source, "restore_test_cron": "", "keep_last": 1, "keep_daily": 0, "keep_weekly": 0}
    plans = {
        "local": BackupPlan.objects.create(name="bench local", destination=local, keep_monthly=0, **common),
        "s3": BackupPlan.objects.create(name="bench s3", destination=remote, keep_monthly=0, **common),
    }
    times: dict[str, list[float]] = {"bare": [], "local": [], "s3": [], "bare_s3": []}
    rss: dict[str, list[int]] = {"local": [], "s3": []}  # KiB
    read = 0
    order = ["bare", "local", "s3", "bare_s3"]
    bare_target = (s3_client_for(s3conn), "bench-backups")
    for round_ in range(SAMPLES + 1):  # round 0 warms every case
        shift = round_ % len(order)
        for case in order[shift:] + order[:shift]:
            if case in ("bare", "bare_s3"):
                elapsed = _bare_dump(pg, dbname, bare_target if case == "bare_s3" else None)
            else:
                data = _child(ONE_RUN, str(plans[case].pk))
                elapsed, read = data["s"], data["read"]
                if round_:
                    rss[case].append(data["hwm_kib"])
            if round_:
                times[case].append(elapsed)
        peaks = "".join(f", {k} {v[-1] / 1024:.0f} MB" for k, v in rss.items() if v)
        print(f"  round {round_}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items() if v), end="")
        print(f"; worker peak RSS{peaks}" if peaks else "", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    mb = read / 1e6
    results = [
        Result(f"Backup of {mb:.0f} MB PostgreSQL to local (MB/s) vs bare pg_dump|zstd", mb / med["local"],
               mb / med["bare"], "MB/s", ">= 0.85"),
        Result(f"Backup of {mb:.0f} MB PostgreSQL to moto S3 (MB/s) vs bare pg_dump|zstd", mb / med["s3"],
               mb / med["bare"], "MB/s", ">= 0.85"),
        Result(f"Backup of {mb:.0f} MB PostgreSQL to moto S3 (MB/s) vs bare pg_dump|zstd uploaded to moto by boto3",
               mb / med["s3"], mb / med["bare_s3"], "MB/s", "info"),
        Result("Backup worker peak RSS, local (MB) vs the 200 MB budget", max(rss["local"]) / 1024, 200.0, "MB",
               "< 1.0"),
        Result("Backup worker peak RSS, S3 (MB) vs the 200 MB budget", max(rss["s3"]) / 1024, 200.0, "MB", "< 1.0"),
    ]  # fmt: skip
    # Restore-test against a bare pg_restore of the same dump (decrypted and decompressed to a file first).
    artifact = Artifact.objects.filter(plan=plans["local"], deleted_at__isnull=True).latest("created_at")
    dump_file = Path(tempfile.mkdtemp(prefix="dbdeck-bench-dump-")) / "dump.pgcustom"
    _decode(artifact, dump_file)
    restore_times: dict[str, list[float]] = {"bare": [], "test": []}
    rto: list[float] = []
    for round_ in range(SAMPLES + 1):
        for case in ["bare", "test"] if round_ % 2 else ["test", "bare"]:
            if case == "bare":
                elapsed = _bare_restore(pg, dump_file, round_)
            else:
                data = _child(ONE_TEST, str(artifact.pk))
                elapsed = data["s"]
                rto.append(data["rto"])
            if round_:
                restore_times[case].append(elapsed)
        print(f"  restore round {round_}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in restore_times.items() if v))
    dump_file.unlink()
    rmed = {k: statistics.median(v) for k, v in restore_times.items()}
    results.append(
        Result("Restore-test (sandbox start to verified) vs bare pg_restore (s)", rmed["test"], rmed["bare"], "s",
               "<= 1.3")
    )  # fmt: skip
    return results


def _decode(artifact: Any, path: Path) -> None:
    from backups import manifest
    from backups.crypto.encrypt import configured_keys
    from backups.pipeline import ArtifactSource
    from backups.runner import store_for

    made = manifest.from_dict(artifact.manifest)
    source = ArtifactSource(store_for(artifact.destination, artifact.location), made.parts, configured_keys(), True)
    with source.part("dump.pgcustom") as stream, open(path, "wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
