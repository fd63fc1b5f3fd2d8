"""Where the command finds the server and the token: the environment first, then a 0600 file.

DBDECK_URL and DBDECK_TOKEN win over ~/.config/dbdeck/config.json ($XDG_CONFIG_HOME is honoured).
The token never travels on a command line: `dbdeck login` reads it from a prompt or stdin.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    url: str
    token: str


def path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dbdeck" / "config.json"


def _saved() -> dict[str, str]:
    file = path()
    if not file.exists():
        return {}
    if file.stat().st_mode & 0o077:
        raise ConfigError(f"{file} is readable by others; run: chmod 600 {file}")
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{file} is not a dbdeck config file ({exc}); run dbdeck login again.") from None
    return data if isinstance(data, dict) else {}


def load() -> Config:
    saved = _saved()
    url = os.environ.get("DBDECK_URL") or saved.get("url", "")
    token = os.environ.get("DBDECK_TOKEN") or saved.get("token", "")
    if not url or not token:
        raise ConfigError("Not logged in: run dbdeck login URL, or set DBDECK_URL and DBDECK_TOKEN.")
    return Config(url.rstrip("/"), token)


def save(config: Config) -> Path:
    """Write the config with mode 0600 from the start (never world-readable, not even briefly)."""
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = file.with_suffix(".tmp")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": config.url, "token": config.token}, out)
    os.replace(temp, file)
    return file
