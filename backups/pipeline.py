"""The streamed path of every part: engine bytes -> zstd -> SHA-256 -> AES-256-GCM chunks -> store, and back.

`ArtifactSink` is the engines' `Sink`: each `part(name)` is a writable stream whose bytes are
hashed (as written and as stored), compressed, optionally encrypted and handed to the store
as they come, so memory stays flat. `ArtifactSource` is the engines' `Source` for restores:
it checks every stored byte against the manifest's SHA-256 while it streams, and a part whose
hash differs fails with a message that says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

import zstandard

from backups.crypto.encrypt import DecryptError, Encryptor, Key, decrypt_stream
from backups.destinations import Store
from connections.engines.results import ManifestPart

READ = 1 << 20
PROGRESS_EVERY_S = 1.0  # how often a run writes its counters and heartbeat (and reads Cancel)


class Cancelled(Exception):
    """The run was cancelled (the Cancel button or the reaper); the part in flight is discarded."""


class ChecksumMismatch(ValueError):
    """A stored part's bytes differ from what the manifest recorded."""


ProgressFn = Callable[[int, int], None]  # (bytes read from the engine, bytes written to the store) so far


class _PartStream:
    def __init__(self, sink: ArtifactSink, out: object) -> None:
        self.sink, self.out = sink, out
        self.raw_hash, self.stored_hash = hashlib.sha256(), hashlib.sha256()
        self.raw_size = self.stored_size = 0
        # One worker thread: zstd compresses beside the thread that reads, hashes and encrypts (as the zstd CLI does).
        self.compressor = zstandard.ZstdCompressor(level=sink.level, write_checksum=True, threads=1).compressobj()
        self.encryptor = Encryptor(sink.key) if sink.key else None

    def _emit(self, data: bytes) -> None:
        if self.encryptor is not None:
            data = self.encryptor.update(data)
        if data:
            self.stored_hash.update(data)
            self.stored_size += len(data)
            self.sink.written += len(data)
            self.out.write(data)  # type: ignore[attr-defined]

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        self.raw_hash.update(data)
        self.raw_size += len(data)
        self.sink.read += len(data)
        self._emit(self.compressor.compress(data))
        self.sink.tick()
        return len(data)

    def finish(self) -> None:
        self._emit(self.compressor.flush())
        if self.encryptor is not None:
            tail = self.encryptor.finish()
            self.stored_hash.update(tail)
            self.stored_size += len(tail)
            self.sink.written += len(tail)
            self.out.write(tail)  # type: ignore[attr-defined]

    # file-like enough for shutil.copyfileobj and the engines
    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass


class ArtifactSink:
    def __init__(
        self,
        store: Store,
        *,
        level: int = 3,
        key: Key | None = None,
        progress: ProgressFn | None = None,
        every_s: float | None = None,
    ) -> None:
        self.store, self.level, self.key = store, level, key
        self.progress = progress
        self.every_s = PROGRESS_EVERY_S if every_s is None else every_s
        self.parts: list[ManifestPart] = []
        self.read = self.written = 0
        self._last = time.monotonic()

    def stored_name(self, name: str) -> str:
        return name + ".zst" + (".enc" if self.key else "")

    def tick(self, force: bool = False) -> None:
        """Report progress (at most once per `every_s`); the callback raises Cancelled to stop the run."""
        now = time.monotonic()
        if self.progress is not None and (force or now - self._last >= self.every_s):
            self._last = now
            self.progress(self.read, self.written)

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[BinaryIO]:
        stored = self.stored_name(name)
        with self.store.writer(stored) as out:
            stream = _PartStream(self, out)
            yield stream  # type: ignore[misc]
            stream.finish()
        self.parts.append(
            ManifestPart(
                name=name,
                size=stream.raw_size,
                sha256=stream.raw_hash.hexdigest(),
                stored_name=stored,
                stored_size=stream.stored_size,
                stored_sha256=stream.stored_hash.hexdigest(),
            )
        )
        self.tick(force=True)


class _HashingReader:
    """Reads the stored bytes and hashes them on the way."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.hash, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n if n and n > 0 else READ)
        self.hash.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(READ):
            pass


class _PlainReader:
    """A readable stream of plaintext chunks (decrypted and decompressed)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer = chunks, bytearray()

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buffer) < n:
            piece = next(self.chunks, None)
            if piece is None:
                break
            self.buffer += piece
        if n < 0:
            n = len(self.buffer)
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def readable(self) -> bool:
        return True


class ArtifactSource:
    def __init__(self, store: Store, parts: list[ManifestPart], keys: list[Key], encrypted: bool) -> None:
        self.store, self.keys, self.encrypted = store, keys, encrypted
        self.by_name = {p.name: p for p in parts}
        self.bytes_read = 0

    def names(self) -> list[str]:
        return list(self.by_name)

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[BinaryIO]:
        meta = self.by_name[name]
        with self.store.reader(meta.stored_name) as raw:
            hashing = _HashingReader(raw)
            chunks = self._plain_chunks(hashing)
            try:
                yield _PlainReader(chunks)  # type: ignore[misc]
                hashing.drain()
            except (DecryptError, zstandard.ZstdError) as exc:
                hashing.drain()
                self._check(meta, hashing)
                raise ChecksumMismatch(f"The part {name} does not decode: {exc}") from None
            except BaseException:
                hashing.drain()
                self._check(meta, hashing)
                raise
            self.bytes_read += hashing.size
            self._check(meta, hashing)

    @staticmethod
    def _check(meta: ManifestPart, hashing: _HashingReader) -> None:
        if meta.stored_sha256 and hashing.hash.hexdigest() != meta.stored_sha256:
            raise ChecksumMismatch(
                f"Checksum mismatch: the SHA-256 of {meta.stored_name} ({hashing.hash.hexdigest()[:16]}…) "
                f"differs from the manifest's ({meta.stored_sha256[:16]}…): the artifact is altered or damaged."
            )

    def _plain_chunks(self, hashing: _HashingReader) -> Iterator[bytes]:
        if self.encrypted:
            compressed: Iterator[bytes] = decrypt_stream(hashing, self.keys)  # type: ignore[arg-type]
        else:
            compressed = iter(lambda: hashing.read(READ), b"")
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        for chunk in compressed:
            out = decompressor.decompress(chunk)
            if out:
                yield out
        if not decompressor.eof:
            raise zstandard.ZstdError("the compressed stream ends early (truncated)")
