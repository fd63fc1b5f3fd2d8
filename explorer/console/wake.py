"""Wake a session's host at once when a run is queued: a datagram on a Unix socket per session.

Best effort: the host also polls the metadata database, so a lost datagram (or a path too
long for a socket) costs a poll interval, never a run.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

from django.conf import settings


def path(session_id: int) -> Path:
    folder = Path(settings.VAR_DIR) / "run" / "console"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{session_id}.sock"


class Doorbell:
    """The host's end: `wait(timeout)` returns early when a datagram arrives."""

    def __init__(self, session_id: int) -> None:
        self.path = path(session_id)
        self.sock: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.path.unlink(missing_ok=True)
            self.sock.bind(str(self.path))
            self.path.chmod(0o600)
        except OSError:
            self.sock.close()
            self.sock = None

    def wait(self, timeout: float) -> None:
        if self.sock is None:
            import time

            time.sleep(timeout)
            return
        self.sock.settimeout(timeout)
        with contextlib.suppress(TimeoutError, OSError):
            self.sock.recv(16)
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError, OSError):
            while self.sock.recv(16):  # several rings count as one
                pass

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.path.unlink(missing_ok=True)


def ring(session_id: int) -> None:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"!", str(path(session_id)))
