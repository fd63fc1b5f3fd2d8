"""Where a connection may point: host allow/deny lists on resolved addresses, SQLite roots."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

# Characters that could smuggle options into a DSN or URI if a driver ever built one.
FORBIDDEN_CHARS = {"=": "“=”", "?": "“?”", "&": "“&”", "\x00": "a NUL byte"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_name(value: str, label: str) -> None:
    for char, shown in FORBIDDEN_CHARS.items():
        if char in value:
            raise ValidationError(f"The {label} may not contain {shown}.")


def _split(entries: list[str]) -> tuple[list[Network], set[str]]:
    networks: list[Network] = []
    names: set[str] = set()
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return networks, names


def resolve(host: str, port: int | None) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(f"The host name {host!r} does not resolve; check its spelling and DNS.") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_host(host: str, port: int | None = None) -> str:
    """Refuse hosts the policy denies; return the first approved address to connect to."""
    name = host.strip().lower().rstrip(".")
    if not name:
        raise ValidationError("Enter a host.")
    denied_nets, denied_names = _split(settings.DBDECK_HOSTS_DENIED)
    allowed_nets, allowed_names = _split(settings.DBDECK_HOSTS_ALLOWED)
    refused = ValidationError(f"The host {host!r} is not allowed by this server's connection policy.")
    if name in denied_names:
        raise refused
    addresses = resolve(name, port)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in net for net in denied_nets if net.version == ip.version):
            raise refused
        if (allowed_nets or allowed_names) and not (
            name in allowed_names or any(ip in net for net in allowed_nets if net.version == ip.version)
        ):
            raise refused
    return addresses[0]


def metadata_database_paths() -> set[Path]:
    paths: set[Path] = set()
    for db in settings.DATABASES.values():
        if str(db.get("ENGINE", "")).endswith("sqlite3") and db.get("NAME"):
            paths.add(Path(str(db["NAME"])).resolve())
    return paths


def check_sqlite_path(raw: str) -> Path:
    """Resolve a SQLite path (symlinks included) and insist it lies under a configured root."""
    if not raw.strip():
        raise ValidationError("Enter the path of the SQLite file.")
    path = Path(raw).expanduser()
    roots = [Path(r).resolve() for r in settings.DBDECK_SQLITE_ROOTS if r.strip()]
    if not path.is_absolute() and roots:
        path = roots[0] / path
    resolved = path.resolve()
    shown = ", ".join(str(r) for r in roots) or "(none configured)"
    if not any(resolved.is_relative_to(root) for root in roots):
        raise ValidationError(f"SQLite files must live under one of: {shown}.")
    forbidden = metadata_database_paths()
    stem = resolved.with_name(resolved.name.removesuffix("-wal").removesuffix("-journal").removesuffix("-shm"))
    if resolved in forbidden or stem in forbidden:
        raise ValidationError("dbdeck's own database cannot be opened as a connection.")
    return resolved
