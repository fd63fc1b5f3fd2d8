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
    from bench import api, backups, console, grid, keys_and_objects, load, monitoring, objstores, plans
    from tests.services import Stack

    stack = Stack()
    results: list[common.Result] = []
    try:
        started = time.monotonic()
        # benches named after what they measure start the servers they need
        needs = {
            "plans": ["postgresql"],
            "backups": ["postgresql", "s3"],
            "monitoring": ["postgresql"],
            "console": ["postgresql"],
            "api": ["postgresql"],
        }
        wanted = list(dict.fromkeys(n for s in sys.argv[1:] if s not in ("sqlite", "load") for n in needs.get(s, [s])))
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
            "console": ("Query console", lambda: console.run(app, servers["postgresql"])),
            "gcs": ("Cloud Storage prefix", lambda: objstores.gcs_prefix(app, servers["gcs"])),
            "azure": ("Azure Blob Storage prefix", lambda: objstores.azure_prefix(app, servers["azure"])),
            "load": ("50 users on the demo, as `make run` serves it", load.run),
            "plans": ("Plan page (500-node plan)", lambda: plans.postgresql(app, servers["postgresql"])),
            "backups": ("Backups: PostgreSQL to local and S3, restore-test", lambda: backups.run(servers)),
            "monitoring": ("Monitoring", lambda: monitoring.run(app, servers["postgresql"])),
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
