"""AES-256-GCM in authenticated chunks: round trips, and truncation, alteration and reordering detected."""

from __future__ import annotations

import base64
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backups.crypto.encrypt import CHUNK, DecryptError, Encryptor, Key, decrypt_stream, parse_keys

KEY = Key("k1", os.urandom(32))
OTHER = Key("k2", os.urandom(32))


def encrypt(data: bytes, key: Key = KEY) -> bytes:
    enc = Encryptor(key)
    out = bytearray()
    for i in range(0, len(data), 70_000):
        out += enc.update(data[i : i + 70_000])
    return bytes(out + enc.finish())


def decrypt(blob: bytes, keys: list[Key]) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), keys))


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=3 * 70_000))
def test_any_bytes_round_trip(data: bytes) -> None:
    assert decrypt(encrypt(data), [KEY]) == data


def test_a_stream_cut_at_a_chunk_boundary_is_detected_as_truncated() -> None:
    blob = encrypt(os.urandom(2 * CHUNK + 10))
    header = len(b"DBDKENC1") + 1 + 2 + 16
    first_chunk_end = header + 4 + CHUNK + 16
    with pytest.raises(DecryptError, match="truncated or altered"):
        decrypt(blob[:first_chunk_end], [KEY])
    with pytest.raises(DecryptError):
        decrypt(blob[:-1], [KEY])


def test_one_flipped_bit_anywhere_fails_authentication() -> None:
    blob = bytearray(encrypt(b"secret rows " * 1000))
    for where in (20, len(blob) // 2, len(blob) - 1):
        altered = bytearray(blob)
        altered[where] ^= 0x01
        with pytest.raises(DecryptError):
            decrypt(bytes(altered), [KEY])


def test_rotation_decrypts_with_any_configured_key_and_names_a_missing_one() -> None:
    blob = encrypt(b"old backup", OTHER)
    assert decrypt(blob, [KEY, OTHER]) == b"old backup"
    with pytest.raises(DecryptError, match="'k2'"):
        decrypt(blob, [KEY])


def test_keys_are_parsed_from_id_and_base64_and_bad_ones_refused() -> None:
    good = "prod-2026:" + base64.b64encode(os.urandom(32)).decode()
    assert parse_keys([good])[0].id == "prod-2026"
    for bad in ("nokey", "x:" + base64.b64encode(b"short").decode(), ":" + base64.b64encode(os.urandom(32)).decode()):
        with pytest.raises(ValueError):
            parse_keys([bad])


def test_the_embedded_default_key_file_is_private(settings: object) -> None:
    from django.conf import settings as django_settings

    path = django_settings.VAR_DIR / "backup.key"
    if not os.environ.get("DBDECK_BACKUP_KEYS"):
        assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
