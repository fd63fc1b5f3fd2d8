"""Watch every process the test process starts, to prove secrets stay out of command lines.

Two sources, because each misses something the other sees:

- an audit hook (PEP 578) hears every `subprocess.Popen`, `os.exec*`, `os.posix_spawn*`,
  `os.spawn*` and `os.system` call made by Python in this process, however short the child lives;
- a sampler thread walks this process's descendants through /proc/<pid>/task/<tid>/children
  every few milliseconds and reads each one's /proc/<pid>/cmdline and environ: it sees
  grandchildren (a dump tool started by a shell, gunicorn's and Celery's workers) that no hook
  in this process can, but may miss a process that lives for less than one sweep.

A secret belongs in a child's environment (as Django's `client.py` passes PGPASSWORD) or in a
file, never in argv, which any local user can read in /proc.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPAWN_EVENTS = {"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system"}


@dataclass(frozen=True)
class Sighting:
    """One process as the watcher saw it; `pid` is 0 for a spawn heard through the audit hook."""

    source: str  # "proc" or the audit event's name
    pid: int
    argv: tuple[str, ...]
    environ: tuple[str, ...] = ()


@dataclass
class ProcessWatcher:
    interval: float = 0.003
    root: int = field(default_factory=os.getpid)
    sightings: list[Sighting] = field(default_factory=list)
    sweeps: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._known: dict[int, tuple[str, ...]] = {}
        self._thread = threading.Thread(target=self._run, name="process-watcher", daemon=True)

    # ---- what it saw ----------------------------------------------------------------------------
    def argv_containing(self, text: str) -> list[Sighting]:
        with self._lock:
            return [s for s in self.sightings if any(text in arg for arg in s.argv)]

    def environ_containing(self, text: str) -> list[Sighting]:
        with self._lock:
            return [s for s in self.sightings if any(text in var for var in s.environ)]

    # ---- running --------------------------------------------------------------------------------
    def start(self) -> ProcessWatcher:
        _ACTIVE.append(self)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def wait_for_sweeps(self, count: int = 2) -> None:
        """Return once the sampler has looked `count` more times (so a living process has been seen)."""
        target = self.sweeps + count
        deadline = time.monotonic() + 10
        while self.sweeps < target and time.monotonic() < deadline:
            time.sleep(self.interval)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in descendants(self.root):
                self._look_at(pid)
            self.sweeps += 1
            self._stop.wait(self.interval)

    def _look_at(self, pid: int) -> None:
        try:
            argv = _split((Path(f"/proc/{pid}/cmdline")).read_bytes())
        except OSError:
            return
        if not argv or self._known.get(pid) == argv:
            return  # a zombie has no command line; an unchanged one was recorded already
        try:
            environ = _split(Path(f"/proc/{pid}/environ").read_bytes())
        except OSError:
            environ = ()
        self._known[pid] = argv
        self._add(Sighting("proc", pid, argv, environ))

    def _add(self, sighting: Sighting) -> None:
        with self._lock:
            self.sightings.append(sighting)


def descendants(root: int) -> list[int]:
    """Pids of every living process below `root`, through the kernel's per-thread children lists."""
    found: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue  # it ended while we looked
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            todo.extend(children)
    return found


def _split(raw: bytes) -> tuple[str, ...]:
    return tuple(part.decode(errors="replace") for part in raw.split(b"\x00") if part)


def _text(values: Any) -> tuple[str, ...]:
    """Arguments or an environment as the audit hook hands them over, as text."""
    if values is None:
        return ()
    if isinstance(values, str | bytes | os.PathLike):
        values = [values]
    elif isinstance(values, dict):
        values = [f"{_one(k)}={_one(v)}" for k, v in values.items()]
    return tuple(_one(v) for v in values) if isinstance(values, Iterable) else (str(values),)


def _one(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


_ACTIVE: list[ProcessWatcher] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in SPAWN_EVENTS or not _ACTIVE:
        return
    if event == "os.system":
        argv, env = _text(args[0]), ()
    elif event == "os.spawn":  # (mode, path, args, env)
        argv, env = _text(args[2]), _text(args[3])
    else:  # Popen: (executable, args, cwd, env); exec and posix_spawn: (path, args, env)
        argv, env = _text(args[1]), _text(args[-1])
    for watcher in list(_ACTIVE):
        watcher._add(Sighting(event, 0, argv, env))


sys.addaudithook(_hook)  # audit hooks cannot be removed; it does nothing while no watcher runs
