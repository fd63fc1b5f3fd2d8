"""AES-256-GCM in authenticated chunks, so an artifact streams through in flat memory.

Layout of an encrypted part:

    b"DBDKENC1" | key id length (1 byte) | key id | salt (16 bytes)
    then chunks: ciphertext length (4 bytes, big-endian) | ciphertext + tag

The part's key is HKDF-SHA256(master key, salt), so nonces never repeat across parts;
a chunk's nonce is its index (11 bytes) and a final flag (1 byte), and the header is the
associated data of every chunk. Reordered, dropped, truncated or altered chunks fail to
decrypt: a stream that ends on a chunk not flagged final is a truncated one.

Keys come from settings.DBDECK_BACKUP_KEYS ("id:base64", the first encrypts, all decrypt),
separate from the credential keys.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"DBDKENC1"
CHUNK = 1 << 20  # plaintext bytes per chunk
TAG = 16


class DecryptError(ValueError):
    """The artifact is altered, truncated, or needs a key this server does not have."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes


def parse_keys(entries: list[str]) -> list[Key]:
    keys = []
    for entry in entries:
        key_id, sep, b64 = entry.strip().partition(":")
        if not sep or not key_id or len(key_id) > 64:
            raise ValueError("A backup key is written id:base64 (32 bytes); the id at most 64 characters.")
        secret = base64.b64decode(b64)
        if len(secret) != 32:
            raise ValueError(f"The backup key {key_id!r} must be 32 bytes (AES-256).")
        keys.append(Key(key_id, secret))
    if not keys:
        raise ValueError("No backup key is configured (DBDECK_BACKUP_KEYS).")
    return keys


def configured_keys() -> list[Key]:
    from django.conf import settings

    return parse_keys(list(settings.DBDECK_BACKUP_KEYS))


def _part_key(master: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"dbdeck backup part").derive(master)
    return AESGCM(derived)


def _nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class Encryptor:
    """Feed plaintext with `update`, end with `finish`; each returns ciphertext bytes to write on."""

    def __init__(self, key: Key) -> None:
        self.key_id = key.id
        salt = os.urandom(16)
        kid = key.id.encode()
        self.header = MAGIC + bytes([len(kid)]) + kid + salt
        self._aead = _part_key(key.secret, salt)
        self._buffer = bytearray()
        self._index = 0
        self._started = False

    def _seal(self, chunk: bytes, final: bool) -> bytes:
        sealed = self._aead.encrypt(_nonce(self._index, final), chunk, self.header)
        self._index += 1
        return struct.pack(">I", len(sealed)) + sealed

    def update(self, data: bytes) -> bytes:
        out = bytearray()
        if not self._started:
            out += self.header
            self._started = True
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed as final.
        while len(self._buffer) > CHUNK:
            out += self._seal(bytes(self._buffer[:CHUNK]), False)
            del self._buffer[:CHUNK]
        return bytes(out)

    def finish(self) -> bytes:
        out = self.update(b"")
        final = self._seal(bytes(self._buffer), True)
        self._buffer.clear()
        return out + final


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        piece = stream.read(n - len(data))
        if not piece:
            break
        data += piece
    return bytes(data)


def decrypt_stream(stream: BinaryIO, keys: list[Key]) -> Iterator[bytes]:
    """Plaintext chunks of an encrypted part; raises DecryptError on any alteration or truncation."""
    magic = _read_exact(stream, len(MAGIC))
    if magic != MAGIC:
        raise DecryptError("The part is not a dbdeck encrypted stream (wrong header): altered or not encrypted.")
    kid_len = _read_exact(stream, 1)
    if not kid_len:
        raise DecryptError("The encrypted part is truncated in its header.")
    kid = _read_exact(stream, kid_len[0])
    salt = _read_exact(stream, 16)
    if len(salt) != 16:
        raise DecryptError("The encrypted part is truncated in its header.")
    key_id = kid.decode(errors="replace")
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise DecryptError(f"The backup was encrypted with key {key_id!r}, which is not in DBDECK_BACKUP_KEYS.")
    header = MAGIC + kid_len + kid + salt
    aead = _part_key(key.secret, salt)
    index = 0
    pending = _read_chunk(stream)
    if pending is None:
        raise DecryptError("The encrypted part ends before its first chunk: truncated.")
    while pending is not None:
        following = _read_chunk(stream)
        final = following is None
        try:
            yield aead.decrypt(_nonce(index, final), pending, header)
        except InvalidTag:
            if final:
                raise DecryptError(
                    f"Chunk {index} of the encrypted part does not authenticate: the artifact is truncated or altered."
                ) from None
            raise DecryptError(f"Chunk {index} of the encrypted part does not authenticate: altered.") from None
        index += 1
        pending = following


def _read_chunk(stream: BinaryIO) -> bytes | None:
    head = _read_exact(stream, 4)
    if not head:
        return None
    if len(head) < 4:
        raise DecryptError("The encrypted part is truncated inside a chunk header.")
    (length,) = struct.unpack(">I", head)
    if length > CHUNK + TAG or length < TAG:
        raise DecryptError("The encrypted part has an impossible chunk length: altered.")
    body = _read_exact(stream, length)
    if len(body) != length:
        raise DecryptError("The encrypted part is truncated inside a chunk.")
    return body
