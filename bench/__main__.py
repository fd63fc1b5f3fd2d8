"""`make bench`: load big data into private servers and print each figure as a ratio."""

from __future__ import annotations

import sys
import time

from bench import common


def main() -> int:
    common.setup_django()
    from bench import grid, keys_and_objects
    from tests.services import Stack

    stack = Stack()
    results: list[common.Result] = []
    try:
        started = time.monotonic()
        servers = stack.start()
        print(f"servers up in {time.monotonic() - started:.0f} s")
        app = common.LiveApp()
        for name, run in [
            ("PostgreSQL grid", lambda: grid.postgresql(app, servers["postgresql"])),
            ("MariaDB grid", lambda: grid.mysql(app, servers["mysql"])),
            ("MongoDB grid", lambda: grid.mongodb(app, servers["mongodb"])),
            ("Redis key tree", lambda: keys_and_objects.redis_tree(servers["redis"])),
            ("S3 prefix", lambda: keys_and_objects.s3_prefix(servers["s3"])),
        ]:
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
