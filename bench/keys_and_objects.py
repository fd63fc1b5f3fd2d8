"""Redis key tree and S3 listings: the first page never depends on how much there is."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import LiveApp, Result, alternate, median_ms
from connections.engines import open_adapter
from connections.engines.browse import KeyBrowsing, ObjectBrowsing

REDIS_KEYS = 1_000_000
S3_OBJECTS = 100_000


def _load_redis(server: Any, db: int, count: int) -> None:
    import redis

    client = redis.Redis(host=server.host, port=server.port, password=server.password, db=db)
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        pipe.set(f"user:{i % 1000}:session:{i}", "x")
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    client.close()


def _first_page_peak(server: Any, db: int) -> tuple[float, int]:
    with open_adapter(server.params(database=str(db))) as adapter:
        keys = adapter.get(KeyBrowsing)
        keys.scan_keys(db)  # connect outside the measurement
        tracemalloc.start()
        ms = median_ms(lambda: keys.scan_keys(db), runs=9, warmup=1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return ms, peak


def redis_tree(app: LiveApp, server: Any) -> list[Result]:
    started = time.monotonic()
    _load_redis(server, 1, REDIS_KEYS // 10)
    _load_redis(server, 2, REDIS_KEYS)
    print(f"  loaded {REDIS_KEYS:,} + {REDIS_KEYS // 10:,} Redis keys in {time.monotonic() - started:.0f} s")
    small_ms, small_peak = _first_page_peak(server, 1)
    big_ms, big_peak = _first_page_peak(server, 2)
    cli = shutil.which("redis-cli")
    if cli is None:
        raise RuntimeError("redis-cli is missing: install the Debian package redis-tools.")
    help_text = subprocess.run([cli, "--help"], capture_output=True, text=True).stdout
    if "--count" in help_text:
        env = {**os.environ, "REDISCLI_AUTH": server.password}  # never on argv
        argv = [cli, "-h", server.host, "-p", str(server.port), "-n", "2", "--scan", "--count", "1000"]
        reference = "redis-cli --scan --count 1000"

        def full_scan() -> None:
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, timeout=600)
    else:
        # redis-cli before 7.2 has no --count: the same SCAN COUNT 1000 walk, through redis-py.
        import redis

        client = redis.Redis(host=server.host, port=server.port, password=server.password, db=2)
        reference = "full SCAN COUNT 1000 (redis-cli 7.0 lacks --count)"

        def full_scan() -> None:
            for _ in client.scan_iter(count=1000):
                pass

    scan_ms = median_ms(full_scan, runs=3, warmup=0)
    conn = app.connection(server, database="0")
    http = alternate(
        {
            "big": lambda: app.get(f"/connections/{conn.pk}/browse/?ns=2"),
            "small": lambda: app.get(f"/connections/{conn.pk}/browse/?ns=1"),
        },
        runs=9,
    )
    return [
        Result(
            f"Redis {REDIS_KEYS:,} keys: key-tree page over HTTP vs {reference}",
            http["big"],
            scan_ms,
            "ms",
            "page < 100 ms",
        ),
        Result("Redis: key-tree page over HTTP, 1,000,000 vs 100,000 keys", http["big"], http["small"], "ms", "~1"),
        Result(
            f"Redis {REDIS_KEYS:,} keys: key tree first page vs {reference}",
            big_ms,
            scan_ms,
            "ms",
            "first page < 100 ms",
        ),
        Result(
            "Redis: first-page peak memory, 1,000,000 vs 100,000 keys",
            big_peak / 1024,
            small_peak / 1024,
            "KiB",
            "~1x (flat)",
        ),
        Result("Redis: first-page time, 1,000,000 vs 100,000 keys", big_ms, small_ms, "ms", "~1x (flat)"),
    ]


def s3_prefix(app: LiveApp, server: Any) -> list[Result]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=server.extra["endpoint_url"],
        aws_access_key_id=server.username,
        aws_secret_access_key=server.password,
        region_name="us-east-1",
        config=Config(max_pool_connections=16, s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket="bench")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(
            pool.map(lambda i: client.put_object(Bucket="bench", Key=f"logs/{i:07d}.log", Body=b"x"), range(S3_OBJECTS))
        )
    print(f"  uploaded {S3_OBJECTS:,} S3 objects in {time.monotonic() - started:.0f} s")
    with open_adapter(server.params()) as adapter:
        store = adapter.get(ObjectBrowsing)
        first = median_ms(lambda: store.list_objects("bench", prefix="logs/"), runs=7, warmup=1)

        def everything() -> None:
            token = None
            while True:
                page = store.list_objects("bench", prefix="logs/", token=token)
                token = page.next_cursor
                if not token:
                    break

        full = median_ms(everything, runs=2, warmup=0)
    conn = app.connection(server, database="")
    page = median_ms(lambda: app.get(f"/connections/{conn.pk}/browse/?ns=bench&prefix=logs/"), runs=7, warmup=1)
    return [
        Result(
            f"S3 prefix of {S3_OBJECTS:,} objects: page over HTTP vs listing them all",
            page,
            full,
            "ms",
            "<< 1",
        ),
        Result(
            f"S3 prefix of {S3_OBJECTS:,} objects: first page vs listing them all",
            first,
            full,
            "ms",
            "<< 1 (first page lists 1,000)",
        ),
    ]
