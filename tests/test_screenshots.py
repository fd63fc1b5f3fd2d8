"""scripts/screenshots.py logs in through the login page and shoots the demo orders grid."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

from connections.demo import build_demo_sqlite
from connections.models import Connection
from tests.fixtures import PASSWORD, People
from tests.procwatch import ProcessWatcher

ROOT = Path(__file__).resolve().parents[1]


def test_the_screenshot_script_saves_the_filtered_orders_grid_of_a_running_app(
    live_server: Any,
    people: People,
    acme_sqlite_dir: Path,
    tmp_path: Path,
    transactional_db: Any,
    process_watcher: ProcessWatcher,
) -> None:
    from connections.management.commands.bootstrap_demo import DEMO_CONNECTION as demo_name

    # The script finds the demo connection by the name bootstrap_demo gives it.
    assert f'DEMO_CONNECTION = "{demo_name}"' in (ROOT / "scripts" / "screenshots.py").read_text()
    path = acme_sqlite_dir / "demo.sqlite3"
    build_demo_sqlite(path, orders=5_000)
    Connection.objects.create(team=people.acme, name=demo_name, engine="sqlite", database=str(path))
    out = tmp_path / "grid.png"
    env = os.environ | {"DBDECK_SCREENSHOT_USER": "carol", "DBDECK_SCREENSHOT_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "scripts/screenshots.py", "--url", live_server.url, "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 800)  # the IHDR chunk: one viewport, not a blank page
    assert len(data) > 50_000
    assert process_watcher.argv_containing(PASSWORD) == []  # the login travels in the environment only
    assert process_watcher.environ_containing(PASSWORD)
