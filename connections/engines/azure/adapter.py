"""Azure Blob Storage through azure-storage-blob: an account key or a SAS token, or Azurite; errors, check.

The client is made from the connection's fields (endpoint, account, key or SAS), never
from a pasted connection string: those are the parts of one, each checked on its own.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from azure.core import exceptions as ax

# azure-storage-blob is imported where an Azure connection is used, not when the engine list loads
# (about 30 MB in every web, console and backup process that never touches Azure).

from connections.engines.azure.introspection import AzureIntrospection
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
)
from connections.engines.browse import ObjectBrowsing

AUTH_CODES = {"AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"}
PERMISSION_CODES = {
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "AuthorizationResourceTypeMismatch",
    "AuthorizationServiceMismatch",
    "AuthorizationSourceIPMismatch",
    "AuthorizationProtocolMismatch",
    "InsufficientAccountPermissions",
}
MISSING_CODES = {"ContainerNotFound", "BlobNotFound", "ResourceNotFound"}
# azure-core logs every request and response at INFO, naming each blob: too much for dbdeck's log.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
CONTAINER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")
BLOCK = 4 * 1024 * 1024  # upload blocks and download chunks: what one request holds in memory


class AzureAdapter(Adapter):
    engine = "azure"
    display_name = "Azure Blob Storage"
    capabilities = {ObjectBrowsing: "connections.engines.azure.browsing.AzureObjects"}
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    form_labels = {
        "host": "Blob endpoint (account.blob.core.windows.net, or Azurite's host)",
        "database": "Container (optional)",
        "username": "Storage account name",
        "password": "Account key or SAS token",
    }
    options = (
        Option(
            "azure_auth",
            "Credential (Azure)",
            choices=(("key", "Account key"), ("sas", "SAS token")),
            initial="key",
        ),
        Option(
            "azure_url_style",
            "Account in (Azure)",
            choices=(("host", "The host name (Azure)"), ("path", "The path (Azurite and other emulators)")),
            initial="host",
        ),
    )
    default_port = 443
    default_tls = "prefer"
    namespaces_title = "Containers"

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._service: Any = None

    @classmethod
    def validate(cls, settings: Any) -> dict[str, str]:
        errors = super().validate(settings)
        account = str(settings.get("username") or "")
        if not account.strip():
            errors["username"] = "Azure Blob Storage needs the storage account's name."
        elif not account.isascii() or not account.isalnum():
            errors["username"] = "A storage account name has only letters and digits."
        container = str(settings.get("database") or "")
        if container and not CONTAINER_NAME.fullmatch(container):
            errors["database"] = "Container names are 3 to 63 lowercase letters, digits and single hyphens."
        return errors

    @cached_property
    def introspection(self) -> AzureIntrospection:
        return AzureIntrospection(self)

    @property
    def sas(self) -> bool:
        return self.params.extra.get("azure_auth") == "sas"

    @property
    def account_url(self) -> str:
        p = self.params
        secure = p.tls_mode != "disable"
        url = f"{'https' if secure else 'http'}://{p.host}:{p.port or (443 if secure else 80)}"
        if p.extra.get("azure_url_style") == "path":
            url += f"/{p.username}"
        return url

    def account_key(self) -> str:
        """The saved account key, checked (base64, as the portal shows it); "" in SAS mode."""
        key = self.params.password.strip()
        if self.sas:
            return ""
        if not key:
            raise EngineError("Enter the storage account's key (or choose a SAS token).", "auth")
        try:
            base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError):
            raise EngineError("The account key is not base64: copy key1 or key2 again.", "config") from None
        return key

    def _credential(self) -> Any:
        from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

        p = self.params
        if not self.sas:
            return AzureNamedKeyCredential(p.username, self.account_key())
        token = p.password.strip().lstrip("?")
        fields = parse_qs(token, strict_parsing=False) if token else {}
        if "sig" not in fields or "sv" not in fields:
            raise EngineError("The SAS token lacks sv= or sig=: copy the whole token (it starts with sv=).", "config")
        return AzureSasCredential(token)

    def service(self) -> Any:
        if self._service is None:
            from azure.storage.blob import BlobServiceClient

            p = self.params
            refuse_nul(p.host, p.username, p.password, p.database)
            self._service = BlobServiceClient(
                self.account_url,
                credential=self._credential(),
                connection_timeout=p.connect_timeout,
                read_timeout=p.statement_timeout,
                retry_total=0,
                connection_verify=p.tls_mode != "require",
                max_single_get_size=BLOCK,
                max_chunk_get_size=BLOCK,
                max_single_put_size=BLOCK,
                max_block_size=BLOCK,
            )
        return self._service

    @property
    def server_timeout(self) -> int:
        """The `timeout` every operation sends: seconds the service may spend on it."""
        return max(1, int(self.params.statement_timeout))

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.server_timeout)
        return self.translated(fn, *args, **kwargs)

    def translated(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from azure.core import exceptions as ax

        try:
            return fn(*args, **kwargs)
        except (ax.ServiceRequestTimeoutError, ax.ServiceResponseTimeoutError):
            raise self.timed_out() from None
        except ax.ServiceRequestError as exc:
            if "SSL" in str(exc) or "certificate" in str(exc):
                raise EngineError("The TLS handshake failed: check the TLS setting and the endpoint.", "tls") from None
            raise unreachable(self.params) from None
        except ax.ServiceResponseError:
            raise self.timed_out() from None
        except ax.HttpResponseError as exc:
            raise self.error(exc) from None
        except ValueError as exc:
            raise EngineError(f"Azure Blob Storage cannot take that request: {first_line(exc)}", "config") from None

    def timed_out(self) -> EngineError:
        return EngineError(f"The store did not answer within {self.params.statement_timeout:g} s.", "timeout")

    def error(self, exc: ax.HttpResponseError) -> EngineError:
        code = str(getattr(exc.error_code, "value", exc.error_code) or "")
        status = exc.status_code
        # Azurite answers a bad signature with AuthorizationFailure, Azure with AuthenticationFailed.
        refused = "failed to authenticate" in str(exc.message or exc.reason or "")
        if code in AUTH_CODES or refused or (status == 401 and not code):
            return EngineError("The account key or SAS token was refused: check the saved credential.", "auth")
        if code in PERMISSION_CODES or status == 403:
            return EngineError("Access denied: this credential may not do this here.", "permission")
        if code in MISSING_CODES or status == 404:
            return EngineError("No such container or blob (it may have been deleted).", "database")
        return EngineError(f"Azure said: {code or status} {first_line(exc.reason or '')}".strip(), "config")

    def writable(self) -> None:
        # Object stores have no read-only session; dbdeck refuses viewers' writes before sending them.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def check(self) -> ServerInfo:
        service = self.service()
        headers: dict[str, str] = {}

        def keep(response: Any) -> None:
            headers.update(response.http_response.headers)

        started = time.perf_counter()
        if self.params.database:
            container = service.get_container_client(self.params.database)
            self.call(container.get_container_properties, raw_response_hook=keep)
            detail = f"container {self.params.database}"
        else:
            info = self.call(service.get_account_information, raw_response_hook=keep)
            detail = f"{info.get('account_kind', '')} {info.get('sku_name', '')}".strip()
        latency = (time.perf_counter() - started) * 1000
        server = headers.get("Server", "") or headers.get("server", "")
        api = headers.get("x-ms-version", "")
        version = "Azure Blob Storage" + (f" API {api}" if api else "") + (f" ({server})" if server else "")
        return ServerInfo(version=version, latency_ms=latency, detail=detail)
