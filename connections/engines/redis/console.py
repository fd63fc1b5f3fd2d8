"""The Redis console: commands as typed argv, never split like a shell line.

A run is either a JSON array of arguments (or an array of such arrays), or plain lines:
one argument per line, a blank line between commands. In lines `\\xHH`, `\\n`, `\\r`, `\\t`
and `\\\\` are escapes, so any byte can be typed. Viewers may run only what the server
flags `readonly` in COMMAND INFO; administrative and script commands need an admin's
confirmation for everybody; blocking and subscribing commands are refused.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

from redis import exceptions as rx

from connections.engines.base import EngineError, read_only_refusal
from connections.engines.capabilities import Console
from connections.engines.results import ResultChunk
from connections.engines.sqlconsole import Statement, display

DANGEROUS = {
    "FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SHUTDOWN", "MODULE", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO",
    "FCALL", "FCALL_RO", "FUNCTION", "SCRIPT", "ACL", "REPLICAOF", "SLAVEOF", "MIGRATE", "SAVE", "BGSAVE",
    "BGREWRITEAOF", "FAILOVER", "CLUSTER", "KEYS", "CLIENT", "SWAPDB", "RESTORE", "LATENCY", "MEMORY",
}  # fmt: skip
REFUSED = {"MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "SYNC", "PSYNC", "BLPOP", "BRPOP", "BLMOVE",
           "BRPOPLPUSH", "BZPOPMIN", "BZPOPMAX", "BLMPOP", "BZMPOP", "XREAD", "XREADGROUP", "WAIT", "WAITAOF",
           "MULTI", "EXEC", "WATCH", "SELECT", "QUIT", "RESET", "HELLO", "AUTH"}  # fmt: skip
ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|[nrt\\])")
SIMPLE = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}


def unescape(line: str) -> bytes:
    out, last = bytearray(), 0
    for match in ESCAPE.finditer(line):
        out += line[last : match.start()].encode()
        code = match.group(1)
        out += bytes([int(code[1:], 16)]) if code[0] == "x" else SIMPLE[code]
        last = match.end()
    return bytes(out + line[last:].encode())


def parse(text: str) -> list[tuple[Statement, list[bytes]]]:
    """Commands with where each starts; raises EngineError for JSON that is not arrays of strings."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise EngineError(f"Not valid JSON: {exc.msg} (at character {exc.pos}).", kind="config") from None
        commands = value if value and all(isinstance(v, list) for v in value) else [value]
        start = text.find("[")
        out = []
        for command in commands:
            if not command or not all(isinstance(a, str | int | float) for a in command):
                raise EngineError('A command is an array of strings, e.g. ["GET", "key"].', kind="config")
            out.append((Statement(start, json.dumps(command)), [str(a).encode() for a in command]))
        return out
    out, argv, start, offset = [], [], 0, 0
    for line in text.split("\n"):
        clean = line.rstrip("\r")
        if clean.strip():
            if not argv:
                start = offset
            argv.append(unescape(clean))
        elif argv:
            out.append((Statement(start, text[start:offset].strip()), argv))
            argv = []
        offset += len(line) + 1
    if argv:
        out.append((Statement(start, text[start:].strip()), argv))
    return out


class RedisConsole(Console):
    language = "redis"
    isolation_levels = ()

    def __init__(self, adapter: Any) -> None:
        super().__init__(adapter)
        self.allow_dangerous = False
        self._readonly: dict[str, bool] = {}
        self._cancelled = False

    def statements(self, text: str) -> list[Statement]:
        try:
            return [piece for piece, _ in parse(text)]
        except EngineError:
            return [Statement(0, text.strip())]

    def dangerous(self, text: str) -> list[str]:
        try:
            return sorted({_name(argv) for _, argv in parse(text) if _name(argv) in DANGEROUS})
        except EngineError:
            return []

    def _flagged_readonly(self, name: str) -> bool:
        if name not in self._readonly:
            info = self.adapter._call(self.adapter._client().execute_command, "COMMAND", "INFO", name)
            flags: list[Any] = []
            if isinstance(info, dict):  # redis-py parses COMMAND INFO into {name: {"flags": [...]}}
                entry = next(iter(info.values()), None) or {}
                flags = list(entry.get("flags") or [])
            elif isinstance(info, list) and info and isinstance(info[0], list):
                flags = list(info[0][2] or [])
            names = {f.decode() if isinstance(f, bytes) else str(f) for f in flags}
            self._readonly[name] = "readonly" in names
        return self._readonly[name]

    def execute(self, text: str, *, timeout: float, batch: int = 1000) -> Iterator[ResultChunk]:
        self._cancelled = False
        try:
            commands = parse(text)
        except EngineError as exc:
            yield ResultChunk(0, done=True, error=exc.message, error_position=0)
            return
        for index, (piece, argv) in enumerate(commands):
            started = time.perf_counter()
            try:
                reply = self._run(argv, timeout)
            except EngineError as exc:
                message = "Cancelled: the connection was closed." if self._cancelled else exc.message
                yield ResultChunk(index, done=True, error=message, error_position=piece.start)
                return
            yield from _pages(index, reply, batch, started)

    def _run(self, argv: list[bytes], timeout: float) -> Any:
        name = _name(argv)
        if name in REFUSED:
            raise EngineError(f"{name} blocks or changes the connection's state; the console does not run it.")
        if name in DANGEROUS and not self.allow_dangerous:
            raise EngineError(f"{name} is an administrative command: an admin must confirm it.", kind="permission")
        if self.adapter.params.extra.get("read_only") and not self._flagged_readonly(name):
            raise read_only_refusal()
        client = self.adapter._client()
        connection = client.connection_pool.get_connection()
        try:
            connection.socket_timeout = timeout
            if connection._sock is not None:
                connection._sock.settimeout(timeout)
            self._connection = connection
            try:
                connection.send_command(*argv)
                return connection.read_response()
            except rx.ResponseError as exc:
                return self.adapter._call(_raise, exc)
            except (rx.ConnectionError, rx.TimeoutError, OSError) as exc:
                connection.disconnect()
                if self._cancelled:
                    raise EngineError("Cancelled: the connection was closed.", kind="timeout") from None
                if isinstance(exc, rx.TimeoutError):
                    raise EngineError(f"Redis did not answer within {timeout:g} s.", kind="timeout") from None
                return self.adapter._call(_raise, exc)
        finally:
            self._connection = None
            client.connection_pool.release(connection)

    def cancel(self) -> None:
        self._cancelled = True
        connection = getattr(self, "_connection", None)
        if connection is not None:
            connection.disconnect()  # the client gives up; the server finishes the (single) command


def _raise(exc: Exception) -> None:
    raise exc


def _name(argv: list[bytes]) -> str:
    return argv[0].decode("utf-8", "replace").upper() if argv else ""


def _pages(index: int, reply: Any, batch: int, started: float) -> Iterator[ResultChunk]:
    elapsed = (time.perf_counter() - started) * 1000
    if isinstance(reply, dict):
        items = [[display(_plain(k)), display(_plain(v))] for k, v in reply.items()]
        columns: tuple[str, ...] = ("field", "value")
    elif isinstance(reply, list | tuple | set):
        items = [[n, display(_plain(v))] for n, v in enumerate(reply, 1)]
        columns = ("#", "value")
    else:
        yield ResultChunk(index, ("reply",), [[display(_plain(reply))]], done=True, elapsed_ms=elapsed)
        return
    for at in range(0, max(len(items), 1), batch):
        page = items[at : at + batch]
        yield ResultChunk(index, columns, page, done=at + batch >= len(items), elapsed_ms=elapsed)


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return json.dumps([_text(v) for v in value], ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps({_text(k): _text(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def _text(value: Any) -> Any:
    plain = _plain(value)
    return plain.hex() if isinstance(plain, bytes) else plain
