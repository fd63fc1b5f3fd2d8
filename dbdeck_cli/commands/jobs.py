"""Commands over the server's jobs: console queries, backups and restore-tests, slow statements.

They are registered once the features they drive are on the server's API.
"""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    """Nothing yet: the console, backups and monitoring APIs land with those features."""
