"""S3-compatible object stores through boto3: delimiter listings, streamed objects, presigned links."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import exceptions as bx
from botocore.config import Config

from connections.engines.base import (
    Adapter,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    wrong_credentials,
)
from connections.engines.browse import Listing, Namespace, ObjectInfo, ObjectMeta

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
CHUNK = 64 * 1024
AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "AuthFailure"}
MISSING_CODES = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}


class S3Adapter(Adapter):
    engine = "s3"
    display_name = "S3-compatible"
    default_port = 443
    browse_style = "objects"
    uses_database = True

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self._s3: Any = None

    @property
    def endpoint_url(self) -> str:
        p = self.params
        if p.extra.get("endpoint_url"):
            return str(p.extra["endpoint_url"])
        secure = p.tls_mode in ("require", "verify-full") or (p.port or 443) == 443 and p.tls_mode != "disable"
        return f"{'https' if secure else 'http'}://{p.host}:{p.port or (443 if secure else 80)}"

    def _client(self) -> Any:
        if self._s3 is None:
            p = self.params
            refuse_nul(p.username, p.password, p.database)
            config = Config(
                connect_timeout=p.connect_timeout,
                read_timeout=p.statement_timeout,
                retries={"max_attempts": 1, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": p.extra.get("addressing_style") or "path"},
            )
            self._s3 = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=p.username or None,
                aws_secret_access_key=p.password or None,
                region_name=p.extra.get("region") or "us-east-1",
                config=config,
                verify=p.tls_mode == "verify-full" or None if p.tls_mode != "require" else False,
            )
        return self._s3

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except bx.ClientError as exc:
            raise self._error(exc) from None
        except (bx.EndpointConnectionError, bx.ConnectTimeoutError):
            raise unreachable(self.params) from None
        except bx.ReadTimeoutError:
            raise EngineError(
                f"The store did not answer within {self.params.statement_timeout:g} s.", "timeout"
            ) from None
        except bx.SSLError:
            raise EngineError("The TLS handshake failed: check the TLS setting and the endpoint.", kind="tls") from None
        except bx.NoCredentialsError:
            raise EngineError("Enter an access key and a secret key.", kind="auth") from None
        except (bx.ParamValidationError, ValueError) as exc:
            raise EngineError(f"That request is not valid for S3: {first_line(exc)}", kind="config") from None

    def _error(self, exc: bx.ClientError) -> EngineError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message = first_line(exc.response.get("Error", {}).get("Message") or code)
        if code in AUTH_CODES:
            return wrong_credentials(self.params)
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return EngineError("Access denied: these keys may not do this here.", kind="permission")
        if code in MISSING_CODES:
            return EngineError("No such bucket or object (it may have been deleted).", kind="database")
        return EngineError(f"The store said: {code} {message}".strip(), kind="config")

    def _writable(self) -> None:
        # Object stores have no read-only session; dbdeck refuses viewers' writes before sending them.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def close(self) -> None:
        if self._s3 is not None:
            self._s3.close()
            self._s3 = None

    def check(self) -> ServerInfo:
        client = self._client()
        started = time.perf_counter()
        if self.params.database:
            response = self._call(client.head_bucket, Bucket=self.params.database)
        else:
            response = self._call(client.list_buckets)
        latency = (time.perf_counter() - started) * 1000
        server = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server", "")
        return ServerInfo(version=f"S3 API{f' ({server})' if server else ''}", latency_ms=latency)

    # ---- browsing ----------------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        if self.params.database:
            return [Namespace(name=self.params.database)]
        buckets = self._call(self._client().list_buckets).get("Buckets", [])
        return [Namespace(name=b["Name"], detail=f"created {b['CreationDate']:%Y-%m-%d}") for b in buckets]

    def list_objects(
        self, bucket: str, *, prefix: str = "", token: str | None = None, limit: int = 1000, delimiter: str = "/"
    ) -> Listing:
        refuse_nul(bucket, prefix)
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": delimiter, "MaxKeys": limit}
        if token:
            kwargs["ContinuationToken"] = token
        response = self._call(self._client().list_objects_v2, **kwargs)
        items = [
            ObjectInfo(name=p["Prefix"][len(prefix) :], kind="prefix", extra={"prefix": p["Prefix"]})
            for p in response.get("CommonPrefixes", [])
        ]
        items.extend(
            ObjectInfo(
                name=o["Key"][len(prefix) :] or o["Key"],
                kind="object",
                size_bytes=o.get("Size"),
                detail=o.get("StorageClass", "STANDARD"),
                extra={"key": o["Key"], "modified": o.get("LastModified"), "etag": o.get("ETag", "")},
            )
            for o in response.get("Contents", [])
        )
        return Listing(items=items, next_cursor=response.get("NextContinuationToken"))

    def head_object(self, bucket: str, key: str) -> ObjectMeta:
        refuse_nul(bucket, key)
        head = self._call(self._client().head_object, Bucket=bucket, Key=key)
        return ObjectMeta(
            bucket=bucket,
            key=key,
            size=int(head.get("ContentLength", 0)),
            modified=head.get("LastModified"),
            etag=str(head.get("ETag", "")).strip('"'),
            content_type=head.get("ContentType", ""),
            storage_class=head.get("StorageClass", "STANDARD"),
            metadata=dict(head.get("Metadata", {})),
        )

    def open_object(self, bucket: str, key: str) -> tuple[ObjectMeta, Iterator[bytes]]:
        refuse_nul(bucket, key)
        response = self._call(self._client().get_object, Bucket=bucket, Key=key)
        meta = ObjectMeta(
            bucket=bucket,
            key=key,
            size=int(response.get("ContentLength", 0)),
            modified=response.get("LastModified"),
            etag=str(response.get("ETag", "")).strip('"'),
            content_type=response.get("ContentType", ""),
            storage_class=response.get("StorageClass", "STANDARD"),
        )
        body = response["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return meta, chunks()

    def presign(self, bucket: str, key: str, seconds: int) -> str:
        refuse_nul(bucket, key)
        seconds = max(1, min(int(seconds), MAX_PRESIGN_SECONDS))
        return str(
            self._call(
                self._client().generate_presigned_url,
                "get_object",
                Params={"Bucket": bucket, "Key": key},
                ExpiresIn=seconds,
            )
        )

    def put_object(self, bucket: str, key: str, fileobj: BinaryIO, size: int | None, content_type: str) -> None:
        self._writable()
        refuse_nul(bucket, key)
        # upload_fileobj streams in parts, so a large upload never sits in memory whole.
        self._call(
            self._client().upload_fileobj,
            fileobj,
            bucket,
            key,
            ExtraArgs={"ContentType": content_type},
            Config=TransferConfig(multipart_threshold=16 * 1024 * 1024, max_concurrency=2),
        )

    def delete_object(self, bucket: str, key: str) -> None:
        self._writable()
        refuse_nul(bucket, key)
        self._call(self._client().delete_object, Bucket=bucket, Key=key)
