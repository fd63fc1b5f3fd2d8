"""Keep decrypted secrets out of log records, whatever a driver puts in an error."""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_known: dict[str, None] = {}  # insertion-ordered set, bounded
_MAX_KNOWN = 1000
# Catches `password=...` / `"password": "..."` shapes even for secrets never decrypted here.
_SHAPES = re.compile(r"(?i)(pass(?:word)?|secret|pwd|token)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;&]+)")
MASK = "********"


def remember(secret: str) -> None:
    if len(secret) < 4:  # too short to redact without mangling ordinary text
        return
    with _lock:
        _known[secret] = None
        while len(_known) > _MAX_KNOWN:
            _known.pop(next(iter(_known)))


def redact(text: str) -> str:
    with _lock:
        secrets = list(_known)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _SHAPES.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, redact(exc_text)
        return True
