"""What the commands share: a client from the config, and finding a connection by id or name."""

from __future__ import annotations

import argparse
from typing import Any

from dbdeck_cli import config
from dbdeck_cli.client import ApiError, Client


def client() -> Client:
    found = config.load()
    return Client(found.url, found.token)


def every(api: Client, path: str, **query: Any) -> list[dict[str, Any]]:
    """All items of a cursor-paged list."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(path, cursor=cursor, **query)
        items += page["items"]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return items


def connection(api: Client, name: str) -> dict[str, Any]:
    """A connection by id, by name, or by TEAM/NAME when names repeat across teams."""
    if name.isdigit():
        return dict(api.get(f"/connections/{name}"))
    found = every(api, "/connections")
    matches = [c for c in found if c["name"] == name or f"{c['team']['name']}/{c['name']}" == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ApiError(404, f"No connection named {name!r}; `dbdeck connections` lists yours.")
    teams = ", ".join(f"{c['team']['name']}/{c['name']}" for c in matches)
    raise ApiError(400, f"{name!r} is in more than one team ({teams}); name it as TEAM/NAME or by id.")


def add_connection_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("connection", metavar="CONNECTION", help="Connection id, name, or TEAM/NAME.")
