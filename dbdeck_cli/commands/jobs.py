"""dbdeck query, dbdeck backup run, dbdeck restore-test, dbdeck slow: the server's jobs, waited for."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from typing import Any

from dbdeck_cli import output
from dbdeck_cli.client import ApiError, Client
from dbdeck_cli.commands.common import add_connection_arg, client, connection, every
from dbdeck_cli.progress import Progress

POLL_S = 1.0
FINISHED_RUN = ("done", "failed", "cancelled")
FINISHED_JOB = ("succeeded", "failed", "cancelled")
SINCE = re.compile(r"([0-9]{1,6})([mhdw])")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(commands: Any) -> None:
    query = commands.add_parser(
        "query",
        help="Run statements in the console and print each result in full (csv or json).",
        description="Runs STATEMENTS in your console session on the server (the console's rules apply: viewers "
        "read only, production writes need --confirm), then exports each result in full and prints it. "
        "Exit 1 when a statement fails.",
    )
    add_connection_arg(query)
    query.add_argument("statements", metavar="STATEMENTS", help='e.g. "SELECT * FROM orders WHERE id < 10"')
    query.add_argument("--format", choices=["csv", "json"], default="csv", help="json prints one object per row.")
    query.add_argument("--confirm", default="", metavar="NAME", help="A production connection's name, to write.")
    query.add_argument("--timeout", type=float, default=600, help="Seconds to wait for the run (default 600).")
    query.set_defaults(run=run_query)

    backup = commands.add_parser("backup", help="Backups: run a plan now.")
    actions = backup.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="Back up a plan now (exit 1 if the backup fails).")
    _plan_args(run)
    run.set_defaults(run=run_backup)
    plans = actions.add_parser("plans", help="List the backup plans you can see, with their badges.")
    plans.set_defaults(run=run_plans)

    test = commands.add_parser(
        "restore-test", help="Restore a plan's newest backup into a scratch database and check it (exit 1 if red)."
    )
    _plan_args(test)
    test.set_defaults(run=run_restore_test)

    slow = commands.add_parser("slow", help="The slowest statements on a connection over a time range.")
    add_connection_arg(slow)
    slow.add_argument("--since", default="24h", help="How far back: 90m, 24h, 7d, 2w (default 24h).")
    slow.add_argument("--sort", choices=["total", "mean", "calls", "rows", "max"], default="total")
    slow.add_argument("--limit", type=int, default=20)
    slow.add_argument("--format", choices=["table", "csv", "json"], default="table")
    slow.set_defaults(run=run_slow)


def _plan_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", metavar="PLAN", help="Plan id, name, or CONNECTION/NAME.")
    parser.add_argument("--wait", action="store_true", help="Wait for the end, with progress; exit 1 on failure.")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="Seconds to wait at most.")
    parser.add_argument("--quiet", action="store_true", help="No progress bar.")


def _plan(api: Client, name: str) -> dict[str, Any]:
    if name.isdigit():
        return dict(api.get(f"/backups/plans/{name}"))
    found = every(api, "/backups/plans")
    matches = [p for p in found if p["name"] == name or f"{p['connection_name']}/{p['name']}" == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ApiError(404, f"No backup plan named {name!r}; `dbdeck backup plans` lists yours.")
    raise ApiError(400, f"{name!r} names plans on several connections; use CONNECTION/NAME or the id.")


def _wait(api: Client, url: str, job: dict[str, Any], label: str, quiet: bool, timeout: float) -> dict[str, Any]:
    bar = Progress(label, quiet=quiet)
    deadline = time.monotonic() + timeout
    while job["status"] not in FINISHED_JOB:
        if time.monotonic() > deadline:
            bar.done(f"{label}: still {job['status']} after {timeout:g} s; it goes on on the server.")
            raise ApiError(0, f"Gave up waiting; see {label} on the server.")
        bar.update(job.get("percent"), job.get("phase") or job["status"])
        time.sleep(POLL_S)
        job = api.get(url)
    bar.done(f"{label}: {job['status']}" + (f" · {job['error']}" if job.get("error") else ""))
    return job


def run_plans(args: argparse.Namespace) -> int:
    found = every(client(), "/backups/plans")
    rows = [
        (p["id"], p["connection_name"], p["name"], p["cron"], (p["badge"] or {}).get("label", "no badge"))
        for p in found
    ]
    output.table(["ID", "CONNECTION", "PLAN", "SCHEDULE", "BADGE"], rows)
    return 0


def run_backup(args: argparse.Namespace) -> int:
    api = client()
    plan = _plan(api, args.plan)
    run = api.post(f"/backups/plans/{plan['id']}/runs")
    if not args.wait:
        print(run["id"])
        return 0
    run = _wait(api, f"/backups/runs/{run['id']}", run, f"backup run {run['id']}", args.quiet, args.timeout)
    if run["status"] != "succeeded":
        return 1
    print(f"backup run {run['id']} of {plan['name']}: {run['bytes_written']:,} bytes written")
    return 0


def run_restore_test(args: argparse.Namespace) -> int:
    api = client()
    plan = _plan(api, args.plan)
    test = api.post(f"/backups/plans/{plan['id']}/restore-tests")
    if not args.wait:
        print(test["id"])
        return 0
    test = _wait(
        api, f"/backups/restore-tests/{test['id']}", test, f"restore-test {test['id']}", args.quiet, args.timeout
    )
    for check in test["checks"]:
        print(f"{'ok ' if check['ok'] else 'BAD'} {check['name']}: {check['detail']}")
    if test["status"] != "succeeded" or not all(c["ok"] for c in test["checks"]):
        return 1
    rto = f", restored in {test['rto_seconds']:.1f} s" if test["rto_seconds"] is not None else ""
    print(f"restore-test {test['id']} of {plan['name']}: verified{rto}")
    return 0


def _since(text: str) -> dict[str, str]:
    if text in ("1h", "24h", "7d", "30d"):
        return {"range": text}
    match = SINCE.fullmatch(text.strip())
    if not match:
        raise ApiError(0, f"--since {text!r}: give a number and m, h, d or w, e.g. 90m, 24h, 7d.")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    return {"range": "custom", "from": start.strftime("%Y-%m-%dT%H:%M")}


def run_slow(args: argparse.Namespace) -> int:
    api = client()
    target = connection(api, args.connection)
    found = api.get(
        f"/connections/{target['id']}/monitoring/slow", sort=args.sort, limit=args.limit, **_since(args.since)
    )
    if found["range"]["notice"]:
        print(f"dbdeck: {found['range']['notice']}", file=sys.stderr)
    headers = ["TOTAL_MS", "CALLS", "MEAN_MS", "MAX_MS", "ROWS", "SHARE_%", "STATEMENT"]
    rows = [
        (
            f"{s['total_ms']:.1f}",
            s["calls"],
            f"{s['mean_ms']:.2f}",
            f"{s['max_ms']:.1f}",
            s["rows"],
            f"{s['share']:.1f}",
            " ".join(s["text"].split())[: 200 if args.format == "table" else None],
        )
        for s in found["items"]
    ]
    if args.format == "json":
        keys = ("total_ms", "calls", "mean_ms", "max_ms", "rows", "share", "text")
        output.json_lines(list(keys), [[s[k] for k in keys] for s in found["items"]])
    elif args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow([h.lower() for h in headers])
        writer.writerows(rows)
    else:
        output.table(headers, rows)
    return 0


def run_query(args: argparse.Namespace) -> int:
    api = client()
    target = connection(api, args.connection)
    base = f"/connections/{target['id']}/console"
    run = api.post(f"{base}/runs", {"text": args.statements, "confirm_name": args.confirm})
    deadline = time.monotonic() + args.timeout
    while run["status"] not in FINISHED_RUN:
        if time.monotonic() > deadline:
            api.post(f"{base}/runs/{run['id']}/cancel")
            raise ApiError(0, f"The run took longer than {args.timeout:g} s and was cancelled.")
        time.sleep(0.2)
        run = api.get(f"{base}/runs/{run['id']}")
    failed = run["status"] != "done"
    if run["message"]:
        print(f"dbdeck: {run['message']}", file=sys.stderr)
    for result in run["results"]:
        if result["error"]:
            print(f"dbdeck: statement {result['statement'] + 1}: {result['error']}", file=sys.stderr)
            failed = True
        elif result["columns"]:
            _print_result(api, target["id"], result, args.format)
        elif result["rowcount"] is not None:
            print(f"statement {result['statement'] + 1}: {result['rowcount']} rows affected", file=sys.stderr)
    return 1 if failed else 0


def _print_result(api: Client, connection_id: int, result: dict[str, Any], fmt: str) -> None:
    export = api.post(
        f"/connections/{connection_id}/console/results/{result['id']}/export",
        {"format": "jsonl" if fmt == "json" else "csv"},
    )
    url = f"/connections/{connection_id}/exports/{export['id']}"
    while export["status"] not in ("done", "failed"):
        time.sleep(0.2)
        export = api.get(url)
    if export["status"] == "failed":
        raise ApiError(0, f"Reading the result failed: {export['error']}")
    api.download(export["download"], sys.stdout.buffer)
    sys.stdout.flush()
