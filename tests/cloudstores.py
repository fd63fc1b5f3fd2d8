"""Helpers for the Cloud Storage and Azure emulators: their own SDK clients, a service-account key, connections."""

from __future__ import annotations

import json
import uuid
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import Team
    from connections.models import Connection
    from tests.services import Server


def unique(prefix: str) -> str:
    """A bucket or container name no other test uses (lowercase, digits and dashes)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def gcs_client(server: Server) -> Any:
    """google-cloud-storage on gcp-storage-emulator, anonymous, for arranging buckets and reading them back."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=server.extra["project"],
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://{server.host}:{server.port}"),
    )


def azure_service(server: Server) -> Any:
    """azure-storage-blob on Azurite with the account key the harness made."""
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient(
        f"http://{server.host}:{server.port}/{server.username}",
        credential=AzureNamedKeyCredential(server.username, server.password),
    )


@cache
def _private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def service_account_key(token_uri: str = GOOGLE_TOKEN_URI, **overrides: Any) -> str:
    """A well-formed service-account JSON key made here (its private key signs; no Google account knows it)."""
    info = {
        "type": "service_account",
        "project_id": "dbdeck-test",
        "private_key_id": "0" * 40,
        "private_key": _private_key_pem(),
        "client_email": "dbdeck@dbdeck-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    info.update(overrides)
    return json.dumps(info, indent=2)


def gcs_connection(server: Server, team: Team, *, key: str = "", name: str = "gcs", **fields: Any) -> Connection:
    from connections.models import Connection

    connection = Connection(
        team=team,
        name=name,
        engine="gcs",
        host=server.host,
        port=server.port,
        options={"tls_mode": "disable", "project": server.extra["project"], "gcs_auth": "anonymous"},
        **fields,
    )
    if key:
        connection.set_secret(key)
    connection.full_clean()
    connection.save()
    return connection


def azure_connection(server: Server, team: Team, *, name: str = "azure", **fields: Any) -> Connection:
    from connections.models import Connection

    connection = Connection(
        team=team,
        name=name,
        engine="azure",
        host=server.host,
        port=server.port,
        username=server.username,
        options={"tls_mode": "disable", "azure_auth": "key", "azure_url_style": "path"},
        **fields,
    )
    connection.set_secret(server.password)
    connection.full_clean()
    connection.save()
    return connection


class Arranger:
    """Arranges buckets or containers with the store's own SDK and reads them back, for either emulator."""

    def __init__(self, engine: str, server: Server) -> None:
        self.engine, self.server = engine, server
        self.sdk = gcs_client(server) if engine == "gcs" else azure_service(server)

    def connection(self, team: Team, **fields: Any) -> Connection:
        if self.engine == "gcs":
            return gcs_connection(self.server, team, key=service_account_key(), **fields)
        return azure_connection(self.server, team, **fields)

    def bucket(self, prefix: str = "b") -> str:
        name = unique(prefix)
        if self.engine == "gcs":
            self.sdk.create_bucket(name)
        else:
            self.sdk.create_container(name)
        return name

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if self.engine == "gcs":
            self.sdk.bucket(bucket).blob(key).upload_from_string(data)
        else:
            self.sdk.get_blob_client(bucket, key).upload_blob(data, overwrite=True)

    def read(self, bucket: str, key: str) -> bytes | None:
        """The object's bytes, or None when it is not there."""
        if self.engine == "gcs":
            from google.api_core.exceptions import NotFound

            # A fresh blob, not get_blob(): the emulator's mediaLink leaves the name unquoted.
            try:
                return bytes(self.sdk.bucket(bucket).blob(key).download_as_bytes())
            except NotFound:
                return None
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return bytes(self.sdk.get_blob_client(bucket, key).download_blob().readall())
        except ResourceNotFoundError:
            return None

    def keys(self, bucket: str) -> list[str]:
        if self.engine == "gcs":
            return sorted(b.name for b in self.sdk.list_blobs(bucket))
        return sorted(b.name for b in self.sdk.get_container_client(bucket).list_blobs())
