"""dbdeck connections, dbdeck test, dbdeck rows, dbdeck export."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

from dbdeck_cli import output
from dbdeck_cli.client import ApiError
from dbdeck_cli.commands.common import add_connection_arg, client, connection, every
from dbdeck_cli.progress import Progress

POLL_S = 1.0


def register(commands: Any) -> None:
    listing = commands.add_parser("connections", help="List the connections you can see, with your role.")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(run=run_connections)

    test = commands.add_parser("test", help="Connect to a connection's server and report (exit 1 if it fails).")
    add_connection_arg(test)
    test.set_defaults(run=run_test)

    rows = commands.add_parser(
        "rows",
        help="Print rows of a table or collection (keyset pages, the grid's filters).",
        description="Print rows through the browse API, page after page by cursor. Values are printed as the "
        "grid shows them (binary as hex, long values cut at the grid's cap); use `dbdeck export` for full values.",
    )
    add_connection_arg(rows)
    _view_args(rows)
    rows.add_argument("--limit", type=int, default=100, help="Rows to print (default 100; 0 = all).")
    rows.add_argument("--format", choices=["csv", "json"], default="csv")
    rows.set_defaults(run=run_rows)

    export = commands.add_parser(
        "export",
        help="Export a table or collection to a file, with progress (exit 1 if it fails).",
        description="Start an export on the server (every page, streamed by a worker), wait for it with a "
        "progress bar, and download the file.",
    )
    add_connection_arg(export)
    _view_args(export)
    export.add_argument("--format", choices=["csv", "jsonl", "sql"], default="csv")
    export.add_argument("--max-rows", type=int, help="Stop after this many rows (the server's cap applies).")
    export.add_argument("--raw", action="store_true", help="CSV: keep cells that start with = + - @ as they are.")
    export.add_argument("-o", "--output", help="File to write (default: the server's file name; - for stdout).")
    export.add_argument("--no-wait", action="store_true", help="Print the export's id and return at once.")
    export.add_argument("--quiet", action="store_true", help="No progress bar.")
    export.set_defaults(run=run_export)


def _view_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("obj", metavar="TABLE", help="Table, view or collection.")
    parser.add_argument("--ns", default="", help="Schema or database (default: the connection's only one).")
    parser.add_argument(
        "--where",
        nargs=3,
        action="append",
        default=[],
        metavar=("COLUMN", "OP", "VALUE"),
        help="A filter (repeatable); OP is eq ne lt gt contains startswith isnull notnull in.",
    )
    parser.add_argument("--sort", default="", help="Sort column.")
    parser.add_argument("--desc", action="store_true", help="Sort descending.")
    parser.add_argument("--columns", default="", help="Comma-separated columns (default all).")


def run_connections(args: argparse.Namespace) -> int:
    found = every(client(), "/connections")
    if args.format == "json":
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    rows = [(c["id"], c["team"]["name"], c["name"], c["engine_name"], c["role"], _check(c)) for c in found]
    output.table(["ID", "TEAM", "NAME", "ENGINE", "ROLE", "LAST CHECK"], rows)
    return 0


def _check(found: dict[str, Any]) -> str:
    check = found["last_check"]
    if check["ok"] is None:
        return "never"
    return ("ok" if check["ok"] else "FAILED") + (f" {check['at'][:16]}" if check["at"] else "")


def run_test(args: argparse.Namespace) -> int:
    api = client()
    target = connection(api, args.connection)
    result = api.post(f"/connections/{target['id']}/test")
    print(f"{target['name']}: {'ok' if result['ok'] else 'FAILED'} · {result['message']}")
    return 0 if result["ok"] else 1


def _columns(text: str) -> list[str]:
    return [c for c in text.split(",") if c]


def _namespace(api: Any, target: dict[str, Any], ns: str) -> str:
    if ns:
        return ns
    found = api.get(f"/connections/{target['id']}/namespaces")["items"]
    if len(found) == 1:
        return str(found[0]["name"])
    names = ", ".join(n["name"] for n in found[:10])
    raise ApiError(400, f"{target['name']} has more than one namespace; choose one with --ns ({names}).")


def run_rows(args: argparse.Namespace) -> int:
    api = client()
    target = connection(api, args.connection)
    ns = _namespace(api, target, args.ns)
    query: dict[str, Any] = {
        "ns": ns,
        "obj": args.obj,
        "sort": args.sort or None,
        "desc": "1" if args.desc else None,
        "fc": [w[0] for w in args.where],
        "fo": [w[1] for w in args.where],
        "fv": [w[2] for w in args.where],
        "col": _columns(args.columns),
    }
    wanted = args.limit if args.limit > 0 else None
    printed = 0
    writer = csv.writer(sys.stdout)
    while True:
        size = 500 if wanted is None else max(1, min(500, wanted - printed))
        page = api.get(f"/connections/{target['id']}/rows", limit=size, **query)
        header = [c["name"] for c in page["columns"]]
        rows = [[None if c["kind"] == "null" else c["text"] for c in row] for row in page["rows"]]
        rows = rows if wanted is None else rows[: wanted - printed]
        if args.format == "json":
            output.json_lines(header, rows)
        else:
            if printed == 0:
                writer.writerow(header)
            writer.writerows(rows)
        printed += len(rows)
        if not page["next_cursor"] or (wanted is not None and printed >= wanted):
            return 0
        query["after"] = page["next_cursor"]


def run_export(args: argparse.Namespace) -> int:
    api = client()
    target = connection(api, args.connection)
    body = {
        "ns": _namespace(api, target, args.ns),
        "obj": args.obj,
        "filters": [{"column": c, "op": o, "value": v} for c, o, v in args.where],
        "sort": args.sort,
        "desc": args.desc,
        "columns": _columns(args.columns),
        "format": args.format,
        "max_rows": args.max_rows,
        "csv_mode": "raw" if args.raw else "",
    }
    export = api.post(f"/connections/{target['id']}/exports", body)
    if args.no_wait:
        print(export["id"])
        return 0
    bar = Progress(f"export {export['id']}", quiet=args.quiet)
    url = f"/connections/{target['id']}/exports/{export['id']}"
    while export["status"] not in ("done", "failed"):
        bar.update(export["percent"], f"{export['rows_written']:,} rows")
        time.sleep(POLL_S)
        export = api.get(url)
    if export["status"] == "failed":
        bar.done(f"export {export['id']} failed: {export['error']}")
        return 1
    bar.update(100, f"{export['rows_written']:,} rows")
    name = args.output or f"export-{export['id']}.{export['format']}"
    if name == "-":
        size = api.download(export["download"], sys.stdout.buffer)
    else:
        with open(Path(name), "wb") as out:
            size = api.download(export["download"], out)
    where = "stdout" if name == "-" else name
    bar.done(f"export {export['id']}: {export['rows_written']:,} rows, {size:,} bytes ({export['mode']}) -> {where}")
    return 0
