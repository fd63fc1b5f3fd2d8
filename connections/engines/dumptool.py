"""Running dump and restore tools for the Backup capabilities: argv lists, secrets in env or 0600 files.

A dump tool's stdout is copied to the sink part as it comes; when the copy stops early (the
run was cancelled, the destination failed) the tool is killed at once. A restore tool's stdin
is fed from the source part. Either way a tool that exits non-zero raises EngineError with the
last lines of what it said, inside the part's block, so the store discards the part.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from connections.engines.base import EngineError

CHUNK = 1 << 20
BASE_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "HOME")


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A child's environment: the basics, then what the tool needs (never the parent's secrets)."""
    env = {k: os.environ[k] for k in BASE_ENV if k in os.environ}
    env.update({k: v for k, v in extra.items() if v != ""})
    return env


@contextlib.contextmanager
def private_file(text: str, suffix: str = "") -> Iterator[Path]:
    """A 0600 file holding `text` (a defaults or password file), removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="dbdeck-", suffix=suffix)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _said(err: BinaryIO, lines: int = 6) -> str:
    err.seek(0)
    text = err.read()[-8000:].decode(errors="replace").strip()
    return "\n".join(text.splitlines()[-lines:])


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False, env=clean_env({}))
    except OSError:
        return ""
    return done.stdout.decode(errors="replace").strip().splitlines()[0] if done.stdout else ""


def dump_to(argv: list[str], env: Mapping[str, str], out: BinaryIO, what: str) -> None:
    """Run a dump tool, copying its stdout into `out`; kill it if the copy stops early."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=dict(env))
        except OSError as exc:
            raise EngineError(f"{what} could not start: {exc.strerror or exc}.", kind="config") from None
        assert proc.stdout is not None
        try:
            while True:
                data = proc.stdout.read1(CHUNK) if hasattr(proc.stdout, "read1") else proc.stdout.read(CHUNK)
                if not data:
                    break
                out.write(data)
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        if code != 0:
            raise EngineError(f"{what} failed (exit {code}): {_said(err) or 'no message'}", kind="database")


def restore_from(argv: list[str], env: Mapping[str, str], source: BinaryIO, what: str) -> None:
    """Run a restore tool, feeding `source` to its stdin from a thread; fail with what it said."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, env=dict(env))
        except OSError as exc:
            raise EngineError(f"{what} could not start: {exc.strerror or exc}.", kind="config") from None
        assert proc.stdin is not None
        feed_error: list[BaseException] = []

        def feed() -> None:
            try:
                while True:
                    data = source.read(CHUNK)
                    if not data:
                        break
                    proc.stdin.write(data)  # type: ignore[union-attr]
            except BrokenPipeError:
                pass  # the tool stopped reading: its exit code says why
            except BaseException as exc:  # a checksum or decrypt error: stop the tool
                feed_error.append(exc)
                proc.kill()
            finally:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # type: ignore[union-attr]

        thread = threading.Thread(target=feed, name=f"feed-{what}", daemon=True)
        thread.start()
        try:
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            thread.join()
        if feed_error:
            raise feed_error[0]
        if code != 0:
            raise EngineError(f"{what} stopped at the first error (exit {code}): {_said(err)}", kind="database")
