"""dbdeck login, dbdeck whoami."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from dbdeck_cli import config
from dbdeck_cli.client import Client


def register(commands: Any) -> None:
    login = commands.add_parser(
        "login",
        help="Save the server's URL and your token (0600 file).",
        description="Check a personal access token against the server and save both to "
        f"{config.path()} (mode 0600). The token is read from DBDECK_TOKEN, else from the terminal "
        "(hidden) or one line of standard input; never from the command line.",
    )
    login.add_argument("url", metavar="URL", help="The address you open dbdeck at, e.g. https://dbdeck.example.com")
    login.set_defaults(run=run_login)
    whoami = commands.add_parser("whoami", help="Show who the saved token acts as, and its limits.")
    whoami.set_defaults(run=run_whoami)


def _read_token() -> str:
    if os.environ.get("DBDECK_TOKEN"):
        return os.environ["DBDECK_TOKEN"].strip()
    if sys.stdin.isatty():
        return getpass.getpass("Token (dbd_…, from your Tokens page): ").strip()
    return sys.stdin.readline().strip()


def run_login(args: argparse.Namespace) -> int:
    token = _read_token()
    if not token:
        raise config.ConfigError("No token given; make one on your Tokens page in dbdeck.")
    url = args.url.rstrip("/")
    me = Client(url, token).get("/me")
    file = config.save(config.Config(url, token))
    print(f"Logged in to {url} as {me['username']} ({_limits(me)}); saved to {file}.")
    return 0


def _limits(me: dict[str, Any]) -> str:
    token = me.get("token") or {}
    team = token.get("team") or "all teams"
    name, ceiling, expires = token.get("name", "?"), token.get("ceiling", "?"), token.get("expires_at", "?")
    return f"token {name}, up to {ceiling}, {team}, expires {expires}"


def run_whoami(args: argparse.Namespace) -> int:
    found = config.load()
    me = Client(found.url, found.token).get("/me")
    print(f"{me['username']} at {found.url} ({_limits(me)})")
    return 0
