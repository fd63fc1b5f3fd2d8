"""Where artifact files go and come from: a local folder, or a bucket + prefix in an object store.

A store writes each file whole or not at all: a local file is written as `.partial` and
renamed when complete; an S3 object is a multipart upload completed on success and aborted
on any error (and by Cancel and the reaper, through the upload ids reported to `on_upload`).
Google Cloud Storage and Azure Blob Storage (backups/cloudstores.py) work the same way with
resumable uploads and staged blocks.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

S3_PART = 8 << 20  # multipart part size: memory per upload stays at about two parts (one filling, one on its way)


class StoreError(RuntimeError):
    """The destination refused or failed, in words."""


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...


class Store(Protocol):
    location: str

    def writer(self, name: str) -> contextlib.AbstractContextManager[Writer]: ...

    def reader(self, name: str) -> contextlib.AbstractContextManager[BinaryIO]: ...

    def put_bytes(self, name: str, data: bytes) -> None: ...

    def get_bytes(self, name: str) -> bytes: ...

    def url(self, name: str) -> str: ...

    def remove(self) -> None: ...


def _safe_name(name: str) -> str:
    parts = name.split("/")
    if not name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"Refused artifact part name {name!r}.")
    return name


class LocalStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def _path(self, name: str) -> Path:
        return self.folder / _safe_name(name)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Writer]:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".partial")
        try:
            with open(partial, "wb") as fh:
                yield fh
            partial.rename(path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(_disk_error(exc, self.folder)) from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        path = self._path(name)
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise StoreError(f"The artifact part {name} is missing from {self.folder}.") from None
        with fh:
            yield fh

    def put_bytes(self, name: str, data: bytes) -> None:
        with self.writer(name) as out:
            out.write(data)

    def get_bytes(self, name: str) -> bytes:
        with self.reader(name) as fh:
            return fh.read()

    def url(self, name: str) -> str:
        return str(self._path(name))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _disk_error(exc: OSError, folder: Path) -> str:
    import errno

    if exc.errno == errno.ENOSPC:
        return f"The destination folder is full (no space left on the device holding {folder})."
    if exc.errno == errno.EDQUOT:
        return f"The destination folder is over its quota ({folder})."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"dbdeck may not write to the destination folder {folder}."
    return f"Writing to {folder} failed: {exc.strerror or exc}."


class PrefixStore:
    """A key prefix in a bucket (or container) of an object store; `scheme` names it in locations."""

    scheme = ""

    def __init__(self, bucket: str, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.location = f"{self.scheme}://{bucket}/{self.prefix}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{_safe_name(name)}" if self.prefix else _safe_name(name)

    def url(self, name: str) -> str:
        return f"{self.scheme}://{self.bucket}/{self.key(name)}"


class S3Store(PrefixStore):
    """A key prefix in a bucket; `client` is a boto3 S3 client with standard-mode retries."""

    scheme = "s3"

    def __init__(
        self, client: Any, bucket: str, prefix: str, on_upload: Callable[[str, dict[str, str]], None] | None = None
    ) -> None:
        super().__init__(bucket, prefix)
        self.client = client
        self.on_upload = on_upload or (lambda event, upload: None)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Writer]:
        from botocore import exceptions as bx

        key = self.key(name)
        try:
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise StoreError(s3_error(exc, self.bucket)) from None
        upload = {"bucket": self.bucket, "key": key, "upload_id": upload_id}
        self.on_upload("start", upload)
        out = _MultipartWriter(self.client, upload)
        try:
            yield out
            out.complete()
        except (bx.BotoCoreError, bx.ClientError) as exc:
            out.close()
            abort_upload(self.client, upload)
            raise StoreError(s3_error(exc, self.bucket)) from None
        except BaseException:
            out.close()
            abort_upload(self.client, upload)
            raise
        finally:
            out.close()
            self.on_upload("end", upload)

    @contextlib.contextmanager
    def reader(self, name: str) -> Iterator[BinaryIO]:
        from botocore import exceptions as bx

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise StoreError(s3_error(exc, self.bucket)) from None
        try:
            yield body
        finally:
            body.close()

    def put_bytes(self, name: str, data: bytes) -> None:
        from botocore import exceptions as bx

        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)
        except (bx.BotoCoreError, bx.ClientError) as exc:
            raise StoreError(s3_error(exc, self.bucket)) from None

    def get_bytes(self, name: str) -> bytes:
        with self.reader(name) as body:
            return body.read()

    def remove(self) -> None:
        token: dict[str, str] = {}
        while True:
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix + "/", **token)
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            if not page.get("IsTruncated"):
                break
            token = {"ContinuationToken": page["NextContinuationToken"]}


class PartWriter:
    """Gathers writes into parts of `part_size` and sends each as it fills, on one sender thread.

    A part grows in one bytearray that is sent as it is. One part is on its way while the next fills (the
    dump does not wait for the store), and a full part waits for the one before it to arrive: parts keep
    their order, at most two are in memory, and a failed part stops the writer at its next full part.
    """

    part_size = S3_PART

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.sent = 0
        self._sender: concurrent.futures.ThreadPoolExecutor | None = None
        self._on_the_way: concurrent.futures.Future[None] | None = None

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= self.part_size:
            self._flush()

    def _flush(self) -> None:
        self._arrived()
        body, self.buffer = self.buffer, bytearray()
        if self._sender is None:
            self._sender = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="part-sender")
        self._on_the_way = self._sender.submit(self._send, body)
        self.sent += 1

    def _arrived(self) -> None:
        """Wait for the part on its way; its error is raised here, in the writer's thread."""
        on_the_way, self._on_the_way = self._on_the_way, None
        if on_the_way is not None:
            on_the_way.result()

    def finish(self) -> None:
        """Send the last part (an empty file is one empty part) and wait until every part arrived."""
        if self.buffer or not self.sent:
            self._flush()
        self._arrived()

    def close(self) -> None:
        """Stop the sender thread; a part still on its way is waited for (an abort must come after it)."""
        with contextlib.suppress(Exception):
            self._arrived()
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    def _send(self, data: bytearray) -> None:
        raise NotImplementedError


class _MultipartWriter(PartWriter):
    def __init__(self, client: Any, upload: dict[str, str]) -> None:
        super().__init__()
        self.client, self.upload = client, upload
        self.parts: list[dict[str, Any]] = []

    def _send(self, data: bytearray) -> None:
        number = len(self.parts) + 1
        answer = self.client.upload_part(
            Bucket=self.upload["bucket"],
            Key=self.upload["key"],
            UploadId=self.upload["upload_id"],
            PartNumber=number,
            Body=data,
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(self) -> None:
        self.finish()
        self.client.complete_multipart_upload(
            Bucket=self.upload["bucket"],
            Key=self.upload["key"],
            UploadId=self.upload["upload_id"],
            MultipartUpload={"Parts": self.parts},
        )


def abort_upload(client: Any, upload: dict[str, str]) -> bool:
    """Abort a multipart upload; True when S3 accepted (or it was already gone)."""
    from botocore import exceptions as bx

    try:
        client.abort_multipart_upload(Bucket=upload["bucket"], Key=upload["key"], UploadId=upload["upload_id"])
        return True
    except bx.ClientError as exc:
        return exc.response.get("Error", {}).get("Code") in ("NoSuchUpload", "404")
    except bx.BotoCoreError:
        return False


def s3_error(exc: Exception, bucket: str) -> str:
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return f"The bucket {bucket!r} does not exist."
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return f"The S3 connection may not write to the bucket {bucket!r} ({code})."
        if code in ("SlowDown", "InternalError", "ServiceUnavailable") or (status or 0) >= 500:
            return f"S3 kept answering {code or status} after every retry; the upload was aborted."
        return f"S3 refused: {code or status}."
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return "The S3 endpoint could not be reached; the upload was aborted."
    return f"S3 failed: {exc.__class__.__name__}."


def s3_client_for(connection: Any, *, attempts: int = 10) -> Any:
    """A boto3 client on an S3 connection's endpoint and credentials (read at use, never copied)."""
    import boto3
    from botocore.config import Config

    adapter = connection.adapter()
    p = adapter.params
    config = Config(
        connect_timeout=p.connect_timeout,
        read_timeout=max(60.0, p.statement_timeout),
        retries={"max_attempts": attempts, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": p.extra.get("addressing_style") or "path"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=adapter.endpoint_url,
        aws_access_key_id=p.username or None,
        aws_secret_access_key=p.password or None,
        region_name=p.extra.get("region") or "us-east-1",
        config=config,
    )
