"""Azure Blob Storage's check() and its errors, against Azurite: what to fix, never the key or the SAS."""

from __future__ import annotations

import base64
import datetime as dt
import io
import time

import pytest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from connections.engines import EngineError, open_adapter
from connections.engines.azure.adapter import AzureAdapter
from connections.engines.browse import ObjectBrowsing
from tests.cloudstores import azure_service, unique
from tests.services import Servers

WRONG_KEY = base64.b64encode(b"w" * 64).decode()


def sas(servers: Servers, **permissions: bool) -> str:
    server = servers.azure
    return generate_account_sas(
        server.username,
        server.password,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(**permissions),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


def sas_params(servers: Servers, token: str, **overrides: object) -> object:
    return servers.azure.params(password=token, extra={"azure_auth": "sas", "azure_url_style": "path"}, **overrides)


def test_check_names_the_service_and_its_api_version(servers: Servers) -> None:
    with open_adapter(servers.azure.params()) as adapter:
        info = adapter.check()
    assert info.version.startswith("Azure Blob Storage API 20") and "Azurite" in info.version
    assert info.latency_ms > 0 and "Standard" in info.detail


def test_a_wrong_account_key_is_reported_as_such_without_echoing_it(servers: Servers) -> None:
    with open_adapter(servers.azure.params(password=WRONG_KEY)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "auth" and "key" in err.value.message and WRONG_KEY not in err.value.message


def test_a_key_that_is_not_base64_is_explained_before_sending(servers: Servers) -> None:
    with open_adapter(servers.azure.params(password="not base64 <script>")) as adapter:
        with pytest.raises(EngineError) as err:
            adapter.check()
    assert err.value.kind == "config" and "<script>" not in err.value.message


def test_a_sas_token_connects_and_lists(servers: Servers) -> None:
    container = unique("sas")
    azure_service(servers.azure).create_container(container)
    token = sas(servers, read=True, list=True)
    with open_adapter(sas_params(servers, "?" + token, database=container)) as adapter:
        assert adapter.check().detail == f"container {container}"
        assert adapter.get(ObjectBrowsing).list_objects(container).items == []


def test_a_forged_sas_is_refused_as_auth(servers: Servers) -> None:
    token = sas(servers, read=True, list=True).replace("sig=", "sig=AAAA")
    with open_adapter(sas_params(servers, token)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "auth" and "sig=AAAA" not in err.value.message


def test_a_pasted_string_that_is_no_sas_is_refused_before_sending(servers: Servers) -> None:
    pasted = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y"
    with open_adapter(sas_params(servers, pasted)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "config" and "AccountKey" not in err.value.message


def test_a_read_only_sas_cannot_delete_and_says_permission(servers: Servers) -> None:
    container = unique("perm")
    service = azure_service(servers.azure)
    service.create_container(container).upload_blob("keep.txt", b"kept")
    with open_adapter(sas_params(servers, sas(servers, read=True, list=True))) as adapter:
        with pytest.raises(EngineError) as err:
            adapter.get(ObjectBrowsing).delete_object(container, "keep.txt")
    assert err.value.kind == "permission"
    assert service.get_blob_client(container, "keep.txt").download_blob().readall() == b"kept"


def test_a_missing_container_is_named(servers: Servers) -> None:
    with open_adapter(servers.azure.params(database="no-such-container")) as adapter:
        with pytest.raises(EngineError) as err:
            adapter.check()
    assert err.value.kind == "database" and "container" in err.value.message


def test_a_closed_port_answers_within_six_seconds(servers: Servers, closed_port: int) -> None:
    started = time.monotonic()
    with open_adapter(servers.azure.params(port=closed_port)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert time.monotonic() - started < 6
    assert err.value.kind == "unreachable" and str(closed_port) in err.value.message


def test_an_account_name_must_be_letters_and_digits() -> None:
    assert "username" in AzureAdapter.validate({"host": "h", "username": "a'b<script>"})
    assert "username" in AzureAdapter.validate({"host": "h", "username": ""})
    assert "database" in AzureAdapter.validate({"host": "h", "username": "acme01", "database": "No_Such"})
    assert AzureAdapter.validate({"host": "h", "username": "acme01", "database": "logs-2024"}) == {}


def test_a_viewer_upload_is_refused_before_it_is_sent(servers: Servers) -> None:
    params = servers.azure.params(extra={**servers.azure.extra, "read_only": True}, port=1)  # nothing listens
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.get(ObjectBrowsing).put_object("c", "k", io.BytesIO(b"x"), 1, "text/plain")
    assert err.value.kind == "permission"


def test_close_is_idempotent(servers: Servers) -> None:
    adapter = open_adapter(servers.azure.params())
    adapter.check()
    adapter.close()
    adapter.close()
    assert adapter._service is None
