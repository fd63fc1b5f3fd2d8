"""`make bench`: load big data into private servers and print each figure as a ratio."""

from __future__ import annotations

import signal
import sys
import time

from bench import common


def main() -> int:
    # Ctrl-C or a kill still runs the `finally` that stops every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    common.setup_django()
    from bench import api, grid, keys_and_objects, load
    from tests.services import Stack

    stack = Stack()
    results: list[common.Result] = []
    try:
        started = time.monotonic()
        # sqlite and load need no private server; the API bench runs on PostgreSQL.
        wanted = [{"api": "postgresql"}.get(s, s) for s in sys.argv[1:] if s not in ("sqlite", "load")]
        servers = stack.start(wanted or None) if wanted or not sys.argv[1:] else {}
        print(f"servers up in {time.monotonic() - started:.0f} s")
        app = common.LiveApp()
        benches = {
            "postgresql": ("PostgreSQL grid", lambda: grid.postgresql(app, servers["postgresql"])),
            "mysql": ("MariaDB grid", lambda: grid.mysql(app, servers["mysql"])),
            "sqlite": ("SQLite grid", lambda: grid.sqlite(app)),
            "mongodb": ("MongoDB grid", lambda: grid.mongodb(app, servers["mongodb"])),
            "redis": ("Redis key tree", lambda: keys_and_objects.redis_tree(app, servers["redis"])),
            "s3": ("S3 prefix", lambda: keys_and_objects.s3_prefix(app, servers["s3"])),
            "load": ("50 users on the demo, as `make run` serves it", load.run),
            "api": ("API rows page", lambda: api.postgresql(app, servers["postgresql"])),
        }
        chosen = sys.argv[1:] or list(benches)  # e.g. `python -m bench redis s3`
        for name, run in (benches[c] for c in chosen):
            print(f"{name} ...", flush=True)
            for result in run():
                results.append(result)
                print("  " + result.line(), flush=True)
        app.stop()
    finally:
        stack.stop()
    print("\nSummary")
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
