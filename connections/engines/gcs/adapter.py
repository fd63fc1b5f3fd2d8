"""Google Cloud Storage through google-cloud-storage: a service-account key or an emulator, errors, check.

Credentials are always given to the client (a service-account key, or anonymous for an
emulator), and so is the project: the library would otherwise look for default
credentials and ask the cloud metadata server, an address dbdeck never calls.
"""

from __future__ import annotations

import json
import time
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

if TYPE_CHECKING:
    from google.oauth2 import service_account

# google-cloud-storage is imported where a GCS connection is used, not when the engine list loads
# (about 35 MB in every web, console and backup process that never touches Cloud Storage).

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
from connections.engines.gcs.introspection import GCSIntrospection

SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
GOOGLE_TOKEN_URIS = {"https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/token"}
KEY_FIELDS = ("client_email", "private_key", "token_uri")


class GCSAdapter(Adapter):
    engine = "gcs"
    display_name = "Google Cloud Storage"
    capabilities = {ObjectBrowsing: "connections.engines.gcs.browsing.GCSObjects"}
    form_fields = ("host", "port", "database", "password", "tls_mode")
    form_labels = {
        "host": "Endpoint (storage.googleapis.com, or an emulator's host)",
        "database": "Bucket (optional)",
        "password": "Service-account JSON key",
    }
    options = (
        Option("project", "Project (Google Cloud Storage)", max_length=64),
        Option(
            "gcs_auth",
            "Requests (Google Cloud Storage)",
            choices=(("key", "Signed with the service-account key"), ("anonymous", "Anonymous (an emulator)")),
            initial="key",
        ),
    )
    default_port = 443
    default_tls = "prefer"
    namespaces_title = "Buckets"

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._client: Any = None

    @classmethod
    def validate(cls, settings: Any) -> dict[str, str]:
        errors = super().validate(settings)
        if settings.get("gcs_auth") == "anonymous" and not str(settings.get("project") or "").strip():
            errors["project"] = "An emulator needs a project name (any, e.g. dbdeck)."
        return errors

    @cached_property
    def introspection(self) -> GCSIntrospection:
        return GCSIntrospection(self)

    @property
    def endpoint_url(self) -> str:
        p = self.params
        secure = p.tls_mode != "disable"
        return f"{'https' if secure else 'http'}://{p.host}:{p.port or (443 if secure else 80)}"

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds, handed to every call."""
        return (self.params.connect_timeout, self.params.statement_timeout)

    @property
    def anonymous(self) -> bool:
        return self.params.extra.get("gcs_auth") == "anonymous"

    def key_credentials(self) -> service_account.Credentials | None:
        """The saved service-account key, checked; None when there is none."""
        secret = self.params.password
        if not secret.strip():
            return None
        try:
            info = json.loads(secret)
        except ValueError:
            raise EngineError("The service-account key is not JSON: paste the whole key file.", "config") from None
        if (
            not isinstance(info, dict)
            or info.get("type") != "service_account"
            or not all(isinstance(info.get(f), str) and info.get(f) for f in KEY_FIELDS)
        ):
            raise EngineError(
                "The service-account key lacks type, client_email, private_key or token_uri: paste the whole key "
                "file as Google Cloud downloads it.",
                "config",
            )
        from google.auth import exceptions as auth_errors
        from google.oauth2 import service_account

        token_uri = info["token_uri"]
        # The key chooses where dbdeck asks for tokens: only Google's, or the host the policy approved.
        if token_uri not in GOOGLE_TOKEN_URIS and urlsplit(token_uri).hostname != self.params.host:
            raise EngineError("The key's token_uri is not Google's token endpoint; dbdeck will not call it.", "config")
        try:
            return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        except (ValueError, auth_errors.MalformedError):
            raise EngineError("The key's private key cannot be read: download a new key.", "auth") from None

    def project(self) -> str:
        project = str(self.params.extra.get("project") or "").strip()
        if not project and not self.anonymous and self.params.password.strip():
            try:
                project = str(json.loads(self.params.password).get("project_id") or "")
            except (ValueError, AttributeError):
                project = ""
        if not project:
            raise EngineError("Set the project (the key has no project_id).", "config")
        return project

    def client(self) -> Any:
        if self._client is None:
            from google.api_core.client_options import ClientOptions
            from google.auth.credentials import AnonymousCredentials
            from google.auth.transport.requests import AuthorizedSession
            from google.cloud import storage

            p = self.params
            refuse_nul(p.host, p.database, str(p.extra.get("project") or ""))
            if self.anonymous:
                credentials: Any = AnonymousCredentials()
            else:
                credentials = self.key_credentials()
                if credentials is None:
                    raise EngineError("Paste a service-account JSON key, or choose anonymous for an emulator.", "auth")
            session = AuthorizedSession(credentials)
            session.verify = p.tls_mode != "require"
            self._client = storage.Client(
                project=self.project(),
                credentials=credentials,
                client_options=ClientOptions(api_endpoint=self.endpoint_url),
                _http=session,
            )
        return self._client

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One request with the timeouts and no retries; driver errors become EngineError."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("retry", None)
        return self.translated(fn, *args, **kwargs)

    def translated(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from google.api_core import exceptions as gx
        from google.auth import exceptions as auth_errors
        from google.cloud.storage import exceptions as storage_errors

        try:
            return fn(*args, **kwargs)
        except gx.GoogleAPICallError as exc:
            raise self.error(exc.code, exc.message) from None
        except storage_errors.InvalidResponse as exc:
            status = getattr(exc.response, "status_code", None)
            raise self.error(status, first_line(exc)) from None
        except auth_errors.RefreshError:
            raise EngineError(
                "The service-account key was refused (revoked, deleted or for another project): check the saved key.",
                "auth",
            ) from None
        except auth_errors.TransportError:
            raise EngineError("The token endpoint could not be reached: check the network.", "unreachable") from None
        except requests.exceptions.SSLError:
            raise EngineError("The TLS handshake failed: check the TLS setting and the endpoint.", "tls") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            if "aborted" in str(exc):  # connected, then dropped without an answer
                raise EngineError(
                    "The store closed the connection without answering: it may not take this request "
                    "(gcp-storage-emulator drops names with .. between slashes).",
                    "config",
                ) from None
            raise unreachable(self.params) from None
        except requests.exceptions.ReadTimeout:
            raise self.timed_out() from None
        except ValueError as exc:
            raise EngineError(f"That request is not valid for Cloud Storage: {first_line(exc)}", "config") from None

    def timed_out(self) -> EngineError:
        return EngineError(f"The store did not answer within {self.params.statement_timeout:g} s.", "timeout")

    def error(self, status: int | None, message: str) -> EngineError:
        if status == 401:
            return EngineError("The credentials were refused: check the saved service-account key.", "auth")
        if status == 403:
            return EngineError("Access denied: this key's account may not do this here.", "permission")
        if status == 404:
            return EngineError("No such bucket or object (it may have been deleted).", "database")
        return EngineError(f"Cloud Storage said: {status or ''} {first_line(message)}".strip(), "config")

    def writable(self) -> None:
        # Object stores have no read-only session; dbdeck refuses viewers' writes before sending them.
        if self.params.extra.get("read_only"):
            raise read_only_refusal()

    def close(self) -> None:
        if self._client is not None:
            self._client._http.close()
            self._client = None

    def check(self) -> ServerInfo:
        client = self.client()
        started = time.perf_counter()
        if self.params.database:
            bucket = self.call(client.get_bucket, self.params.database)
            detail = f"bucket in {bucket.location or 'an unnamed location'}, class {bucket.storage_class or 'STANDARD'}"
        else:
            buckets = self.call(client.list_buckets, max_results=1)
            self.translated(lambda: next(iter(buckets.pages), None))
            detail = f"project {client.project}"
        latency = (time.perf_counter() - started) * 1000
        where = "emulator" if self.anonymous else "service account"
        return ServerInfo(version=f"Google Cloud Storage JSON API v1 ({where})", latency_ms=latency, detail=detail)
