"""SQL text with its values out, for engines that keep no normalized statements (dbdeck's own on SQLite)."""

from __future__ import annotations

import hashlib
import re

_TOKENS = re.compile(
    r"""(?P<str>'(?:[^']|'')*')|(?P<num>\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|(?P<blob>\bx'[0-9a-f]*')|(?P<space>\s+)""",
    re.IGNORECASE,
)
_LISTS = re.compile(r"\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_TAG = re.compile(r"^\s*/\*\s*dbdeck\s*\*/\s*")


def normalize_sql(sql: str) -> str:
    """Literals become ?, lists of them (?, ...), whitespace one space; identifiers stay."""

    def swap(match: re.Match[str]) -> str:
        return " " if match.group("space") else "?"

    text = _TOKENS.sub(swap, _TAG.sub("", sql)).strip()
    text = re.sub(r"\$\d+|:\w+|%s", "?", text)
    return _LISTS.sub("IN (?, ...)", text)[:4000]


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
