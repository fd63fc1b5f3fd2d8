"""dbdeck: the command line for a dbdeck server's API.

Exit status: 0 done, 1 the server refused or the job failed (the message says why), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dbdeck_cli import config
from dbdeck_cli.client import ApiError
from dbdeck_cli.commands import browse, jobs, session

EPILOG = "Log in once with `dbdeck login URL`, or set DBDECK_URL and DBDECK_TOKEN. Each command has --help."


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dbdeck", description="Drive a dbdeck server from the shell.", epilog=EPILOG)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    session.register(commands)
    browse.register(commands)
    jobs.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ApiError as exc:
        where = f" ({exc.status})" if exc.status else ""
        print(f"dbdeck: {exc.detail}{where}", file=sys.stderr)
        return 1
    except config.ConfigError as exc:
        print(f"dbdeck: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("dbdeck: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
