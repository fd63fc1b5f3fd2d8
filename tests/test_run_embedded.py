"""`make run` as a newcomer meets it: it serves, Ctrl-C stops it in one line with status 0,
and every runtime file lands under DBDECK_VAR_DIR, none in the checkout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.procwatch import ProcessWatcher, descendants
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
NOISE = ("ERROR", "Traceback", "superuser privileges", "No hostname was supplied")


def checkout_files() -> set[str]:
    """Changed, untracked and ignored paths in the checkout, bytecode caches aside."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--ignored"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in status.splitlines() if not _written_by_other_tests(line[3:])}


def _written_by_other_tests(path: str) -> bool:
    """Bytecode, and what browser tests running beside this one (pytest-xdist) save: artifacts, doc screenshots."""
    return (
        "__pycache__/" in path
        or path.endswith(".pyc")
        or path.startswith("test-artifacts/")
        or (path.startswith("docs/") and path.endswith(".png"))
    )


def wait_for_health(url: str, proc: subprocess.Popen[bytes], output: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run script ended (status {proc.returncode}):\n{output.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds:.0f} s:\n{output.read_text()}")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_make_run_serves_then_stops_on_ctrl_c_with_one_line_and_status_0(
    tmp_path: Path, process_watcher: ProcessWatcher
) -> None:
    before = checkout_files()
    var, port, output = tmp_path / "var", free_port(), tmp_path / "terminal.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DBDECK_", "CELERY_"))}
    env |= {"DBDECK_VAR_DIR": str(var), "DBDECK_PORT": str(port), "DBDECK_PYTHON": sys.executable}
    with output.open("wb") as terminal:
        # Its own process group, like a shell's foreground job: Ctrl-C signals that whole group.
        script = subprocess.Popen(
            ["bash", "scripts/run-embedded.sh"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", script, output)
        services = {
            name: int((var / "run" / f"{name}.pid").read_text()) for name in ("web", "worker", "console", "beat")
        }
        tree = descendants(script.pid)
        process_watcher.wait_for_sweeps()
        os.killpg(script.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        status = script.wait(timeout=60)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()

    text = output.read_text()
    assert status == 0, text
    started = text.index(f"dbdeck: http://127.0.0.1:{port}/")
    assert text[started:].splitlines()[1:] == ["dbdeck: stopped."]  # the stop says one line, nothing else
    logs = {path.name: path.read_text() for path in (var / "log").iterdir()}
    assert set(logs) == {"web.log", "worker.log", "console.log", "beat.log"}
    for name, body in {"terminal": text, **logs}.items():
        assert not [word for word in NOISE if word in body], (name, body)
    assert "GET /healthz" in logs["web.log"] and "ready" in logs["worker.log"] and "Starting" in logs["beat.log"]
    assert "ready" in logs["console.log"]  # the query console's session host (queue `console`)
    # Every service and its children ended; their pid files went with them.
    assert set(services.values()) <= set(tree)
    assert not [pid for pid in tree if alive(pid)]
    assert not list((var / "run").iterdir())
    # Runtime files live under DBDECK_VAR_DIR, none in the checkout.
    assert (var / "celerybeat-schedule.dat").exists() or (var / "celerybeat-schedule").exists()
    assert (var / "broker" / "control").is_dir()
    assert checkout_files() == before
    # The services really were watched, and no key reached a command line.
    seen = [" ".join(s.argv) for s in process_watcher.sightings]
    assert any("gunicorn" in a for a in seen) and any("celery -A config worker" in a for a in seen)
    for secret in ((var / "secret_key").read_text().strip(), (var / "fernet.key").read_text().strip()):
        assert process_watcher.argv_containing(secret) == []
