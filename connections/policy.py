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
    except (socket.gaierror, UnicodeError, ValueError):
        raise ValidationError(
            f"The host name {host!r} does not resolve; check its spelling and DNS.", code="unresolvable"
        ) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: any RFC 6052 prefix length inside
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, still routed by some stacks
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT
ISATAP_IID = 0x00005EFE  # interface id 0000:5efe:a.b.c.d (or 0200:5efe with the u/l bit)


def _rfc6052(ip: ipaddress.IPv6Address, prefix_len: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded after a NAT64 prefix of `prefix_len` bits (bits 64-71 are skipped)."""
    n = int(ip)
    bits = [i for i in range(prefix_len, 128) if not 64 <= i < 72][:32]
    value = 0
    for i in bits:
        value = (value << 1) | ((n >> (127 - i)) & 1)
    return ipaddress.IPv4Address(value)


def embedded(ip: Address) -> list[Address]:
    """Every IPv4 address an IPv6 address carries and may end up reaching, innermost last."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[Address] = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    elif ip in IPV4_TRANSLATED:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    elif ip in IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are IPv6's own
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in NAT64_WELL_KNOWN:
        found.append(_rfc6052(ip, 96))
    if ip in NAT64_LOCAL_USE:
        found.extend(_rfc6052(ip, length) for length in (48, 56, 64, 96))
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        server, client = ip.teredo
        found.extend([server, client])
    if (int(ip) >> 32) & 0xFDFFFFFF == ISATAP_IID:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return list(dict.fromkeys(found))


def forms(address: str) -> list[Address]:
    """An address and every IPv4 address embedded in it; the last one is what a packet reaches."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return [ip, *embedded(ip)]


def _within(ip: Address, networks: list[Network]) -> bool:
    return any(ip in net for net in networks if net.version == ip.version)


def check_host(host: str, port: int | None = None) -> str:
    """Refuse hosts the policy denies; return the first approved address to connect to.

    The name is resolved first (so decimal, octal and hex IPv4 spellings become
    the address they reach), then every resolved address is refused if it, or
    any IPv4 address embedded in it, is denied; with an allow list, the address
    a packet finally reaches must be allowed.
    """
    name = host.strip().lower().rstrip(".")
    if not name:
        raise ValidationError("Enter a host.")
    denied_nets, denied_names = _split(settings.DBDECK_HOSTS_DENIED)
    allowed_nets, allowed_names = _split(settings.DBDECK_HOSTS_ALLOWED)
    refused = ValidationError(
        f"The host {host!r} is not allowed by this server's connection policy (cloud metadata, link-local and "
        "other denied addresses are refused). Use the database's own address, or ask the operator to allow it.",
        code="denied",
    )
    if name in denied_names:
        raise refused
    addresses = resolve(name, port)
    for address in addresses:
        every = forms(address)
        if any(_within(ip, denied_nets) for ip in every):
            raise refused
        if (allowed_nets or allowed_names) and not (name in allowed_names or _within(every[-1], allowed_nets)):
            raise refused
    return addresses[0]


def metadata_database_paths() -> set[Path]:
    paths: set[Path] = set()
    for db in settings.DATABASES.values():
        if str(db.get("ENGINE", "")).endswith("sqlite3") and db.get("NAME"):
            paths.add(Path(str(db["NAME"])).resolve())
    return paths


def sqlite_roots() -> list[Path]:
    return [Path(r).resolve() for r in settings.DBDECK_SQLITE_ROOTS if r.strip()]


def team_folder(root: Path, team_id: int) -> Path:
    """A team's own folder under a SQLite root: `<root>/<team id>/` (ids never change, names may)."""
    return root / str(int(team_id))


def team_folders(team_id: int, *, create: bool = False) -> list[Path]:
    """The team's folder under every configured root, made on demand when `create` is set."""
    folders = [team_folder(root, team_id) for root in sqlite_roots()]
    if create:
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # a read-only root: the path check below still says where files belong
    return folders


def check_sqlite_path(raw: str, *, team_id: int | None) -> Path:
    """Resolve a SQLite path (symlinks included) and insist it lies in the team's own folder.

    Each team gets `<root>/<team id>/` under every configured root; a relative
    path starts in the team's folder under the first root. `..` and symlinks are
    resolved before the check, so neither can reach another team's folder.
    """
    if not raw.strip():
        raise ValidationError("Enter the path of the SQLite file.")
    if team_id is None:
        raise ValidationError("Choose the team first: SQLite files live in the team's own folder.")
    folders = [f.resolve() for f in team_folders(team_id, create=True)]
    path = Path(raw)
    if not path.is_absolute() and folders:
        path = folders[0] / path
    try:
        resolved = path.resolve()
    except (OSError, ValueError, RuntimeError):
        raise ValidationError("That is not a usable file path.") from None
    shown = ", ".join(str(f) for f in folders) or "(no SQLite root configured)"
    if not any(resolved.is_relative_to(folder) for folder in folders):
        raise ValidationError(f"This team's SQLite files must live under: {shown}.")
    forbidden = metadata_database_paths()
    stem = resolved.with_name(resolved.name.removesuffix("-wal").removesuffix("-journal").removesuffix("-shm"))
    if resolved in forbidden or stem in forbidden:
        raise ValidationError("dbdeck's own database cannot be opened as a connection.")
    return resolved
