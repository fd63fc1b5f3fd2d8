"""The self-describing manifest stored beside each artifact (manifest.json): enough to restore with nothing else.

It holds the engine's BackupManifest (engine, server and tool versions, scope, times,
per-object counts and checksums) and what the pipeline added: dbdeck's version, the
compression, the encryption key id, and per part the size and SHA-256 as dumped and as stored.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from importlib import metadata
from typing import Any

from connections.engines.results import BackupManifest, BackupScope, ManifestPart, ObjectCount

FORMAT = "dbdeck-backup/1"
NAME = "manifest.json"


def dbdeck_version() -> str:
    try:
        return metadata.version("dbdeck")
    except metadata.PackageNotFoundError:
        return "unknown"


def to_dict(manifest: BackupManifest, *, compression: str, key_id: str, extra: dict[str, Any] | None = None) -> dict:
    body = asdict(manifest)
    for name in ("started_at", "finished_at"):
        value = getattr(manifest, name)
        body[name] = value.isoformat() if value else None
    body["scope"] = {k: list(v) for k, v in asdict(manifest.scope).items()}
    return {
        "format": FORMAT,
        "dbdeck_version": dbdeck_version(),
        **body,
        "compression": compression,
        "encryption": {"cipher": "AES-256-GCM chunked", "key_id": key_id} if key_id else None,
        "size": sum(p.stored_size for p in manifest.parts),
        **(extra or {}),
    }


def dumps(data: dict) -> bytes:
    return json.dumps(data, indent=2, sort_keys=False).encode()


def from_dict(data: dict) -> BackupManifest:
    if data.get("format") != FORMAT:
        raise ValueError(f"Not a dbdeck manifest (format {data.get('format')!r}, expected {FORMAT!r}).")
    scope = data.get("scope") or {}

    def when(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    return BackupManifest(
        engine=data["engine"],
        server_version=data.get("server_version", ""),
        method=data.get("method", ""),
        tool=data.get("tool", ""),
        tool_version=data.get("tool_version", ""),
        scope=BackupScope(
            namespaces=tuple(scope.get("namespaces", ())),
            objects=tuple(scope.get("objects", ())),
            patterns=tuple(scope.get("patterns", ())),
        ),
        started_at=when(data.get("started_at")),
        finished_at=when(data.get("finished_at")),
        parts=[ManifestPart(**p) for p in data.get("parts", [])],
        objects=[ObjectCount(**o) for o in data.get("objects", [])],
        notes=dict(data.get("notes") or {}),
    )


def key_id(data: dict) -> str:
    enc = data.get("encryption") or {}
    return str(enc.get("key_id") or "")


def loads(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The manifest is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("The manifest is not a JSON object.")
    from_dict(data)  # validates
    return data
