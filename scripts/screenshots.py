"""The README's screenshot, taken from the real demo: `.venv/bin/python scripts/screenshots.py`.

By default it starts the app as `make run` does (scripts/run-embedded.sh) with a fresh
var folder in a temporary directory, adds a viewer to the demo team with a one-time
password, logs in through the login page with Playwright driving the system Chromium,
opens the demo shop's orders grid filtered to shipped orders and saves docs/grid.png.

To shoot an app that is already running instead, pass --url and put the login in
DBDECK_SCREENSHOT_USER and DBDECK_SCREENSHOT_PASSWORD (never on the command line).
Playwright cannot download browsers here: the Debian package `chromium` is used.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_CONNECTION = "Demo shop (SQLite)"  # connections/management/commands/bootstrap_demo.py
VIEWER = "screenshots"
# Reads the password from the environment, so it never appears in a command line.
ADD_VIEWER = f"""
import os
from django.contrib.auth.models import User
from connections.management.commands.bootstrap_demo import DEMO_TEAM
from accounts.models import Membership, Role, Team
user, _ = User.objects.get_or_create(username={VIEWER!r})
user.set_password(os.environ["DBDECK_SCREENSHOT_PASSWORD"])
user.save()
Membership.objects.get_or_create(user=user, team=Team.objects.get(name=DEMO_TEAM), defaults={{"role": Role.VIEWER}})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, app: subprocess.Popen[bytes], log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if app.poll() is not None:
            sys.exit(f"The app stopped while starting:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"The app did not answer {url} within {seconds:.0f} s; see {log}.")


def shoot(base: str, username: str, password: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: install the Debian package 'chromium'.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/connections/")
        demo = page.locator("tr", has=page.locator(f"a:text-is('{DEMO_CONNECTION}')"))
        demo.locator("a:text-is('Browse')").click()
        page.click("a:text-is('orders')")
        page.select_option("#filters select[name=fc]", "status")
        page.select_option("#filters select[name=fo]", "eq")
        page.fill("#filters input[name=fv]", "shipped")
        page.click("#filters button[type=submit]")
        page.wait_for_url("**fv=shipped**")
        rows = page.locator("table.grid.data tbody tr")
        rows.first.wait_for()
        if rows.count() != 100:
            sys.exit(f"Expected a full page of 100 shipped orders, found {rows.count()} rows.")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def with_own_app(out: Path) -> None:
    """Start the app like `make run` in a temporary var folder, shoot, stop it."""
    var = Path(tempfile.mkdtemp(prefix="dbdeck-screenshots-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DBDECK_", "CELERY_"))}
    env |= {"DBDECK_VAR_DIR": str(var), "DBDECK_PORT": str(port), "DBDECK_PYTHON": sys.executable}
    log = var / "terminal.log"
    with log.open("wb") as terminal:
        app = subprocess.Popen(
            ["bash", "scripts/run-embedded.sh"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", app, log)
        password = secrets.token_urlsafe(18)
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", ADD_VIEWER],
            cwd=ROOT,
            env=env | {"DBDECK_SCREENSHOT_PASSWORD": password},
            check=True,
            capture_output=True,
            timeout=120,
        )
        shoot(base, VIEWER, password, out)
    finally:
        os.killpg(app.pid, signal.SIGINT)  # as Ctrl-C would: the run script stops its services
        app.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an app already running, e.g. http://127.0.0.1:8000 (default: start one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "grid.png")
    args = parser.parse_args()
    if args.url:
        username, password = os.environ.get("DBDECK_SCREENSHOT_USER"), os.environ.get("DBDECK_SCREENSHOT_PASSWORD")
        if not username or not password:
            sys.exit("With --url, set DBDECK_SCREENSHOT_USER and DBDECK_SCREENSHOT_PASSWORD to a login of that app.")
        shoot(args.url.rstrip("/"), username, password, args.out)
    else:
        with_own_app(args.out)
    print(f"Saved {args.out}")


if __name__ == "__main__":
    main()
