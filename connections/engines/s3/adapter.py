"""S3-compatible object stores through boto3: the endpoint from host, port and TLS, errors, check."""

from __future__ import annotations

import time
from functools import cached_property
from typing import TYPE_CHECKING, Any

from connections.engines.base import (
    Adapter,
    ConnectionParams,
    EngineError,
    Option,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    wrong_credentials,
)
from connections.engines.browse import ObjectBrowsing
from connections.engines.capabilities import Backup
from connections.engines.s3.introspection import S3Introspection

if TYPE_CHECKING:
    from botocore import exceptions as bx

# boto3 is imported where an S3 connection is used, not when the engine list loads.

AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId", "AuthFailure"}
MISSING_CODES = {"NoSuchBucket", "NoSuchKey", "404", "NotFound"}


class S3Adapter(Adapter):
    engine = "s3"
    display_name = "S3-compatible"
    capabilities = {
        ObjectBrowsing: "connections.engines.s3.browsing.S3Objects",
        Backup: "connections.engines.s3.backup.S3Backup",
    }
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    form_labels = {"database": "Bucket (optional)"}
    options = (
        Option("region", "Region (S3)", initial="us-east-1", max_length=32),
        Option(
            "addressing_style",
            "Addressing (S3)",
            choices=(("path", "Path style"), ("virtual", "Virtual host")),
            initial="path",
        ),
    )
    default_port = 443
    default_tls = "prefer"
    namespaces_title = "Buckets"

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._s3: Any = None

    @cached_property
    def introspection(self) -> S3Introspection:
        return S3Introspection(self)

    @property
    def endpoint_url(self) -> str:
        p = self.params
        if p.extra.get("endpoint_url"):
            return str(p.extra["endpoint_url"])
        secure = p.tls_mode in ("require", "verify-full") or (p.port or 443) == 443 and p.tls_mode != "disable"
        return f"{'https' if secure else 'http'}://{p.host}:{p.port or (443 if secure else 80)}"

    def _client(self) -> Any:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

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
        from botocore import exceptions as bx

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
