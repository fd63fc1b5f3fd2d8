"""Progress on stderr while waiting: a redrawn bar on a terminal, a line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
LINE_EVERY_S = 5.0


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self.last = 0.0
        self.shown = ""

    def update(self, percent: int | None, note: str = "") -> None:
        if self.quiet:
            return
        if percent is None:
            bar = "[" + "." * WIDTH + "]"
            text = f"{self.label} {bar} {note}"
        else:
            done = max(0, min(WIDTH, percent * WIDTH // 100))
            text = f"{self.label} [{'#' * done}{'.' * (WIDTH - done)}] {percent:3d}% {note}"
        if self.tty:
            self.stream.write("\r" + text.ljust(len(self.shown)))
            self.stream.flush()
        elif text != self.shown and time.monotonic() - self.last >= LINE_EVERY_S:
            self.stream.write(text + "\n")
            self.last = time.monotonic()
        self.shown = text

    def done(self, message: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r" + " " * len(self.shown) + "\r")
        self.stream.write(message + "\n")
        self.stream.flush()
