"""Redis key names as reversible text for links and forms, and SCAN positions read from links."""

from __future__ import annotations

import re

from connections.engines.base import EngineError


def escape_key(key: bytes) -> str:
    """Readable, reversible text for any key: backslash and undecodable or control bytes escaped."""
    out = []
    for char in key.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    return "".join(out)


def unescape_key(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] == "\\":
            out += b"\\"
            i += 2
        elif char == "\\" and text[i + 1 : i + 2] == "x" and len(text) >= i + 4:
            try:
                out.append(int(text[i + 2 : i + 4], 16))
            except ValueError:
                raise EngineError("That key name has a broken \\x escape.", kind="config") from None
            i += 4
        else:
            out += char.encode("utf-8", "surrogateescape")
            i += 1
    return bytes(out)


def glob_escape(raw: bytes) -> bytes:
    for special in (b"\\", b"*", b"?", b"[", b"]"):
        raw = raw.replace(special, b"\\" + special)
    return raw


INT_CURSOR = re.compile(r"-?[0-9]{1,19}")


def scan_position(cursor: str | None) -> int:
    """A SCAN cursor or list offset from a link: ASCII digits within 64 bits, else the start."""
    return int(cursor) if cursor and INT_CURSOR.fullmatch(cursor) else 0
