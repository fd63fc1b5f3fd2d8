"""Cloud Storage's check() and its errors, against gcp-storage-emulator: what to fix, never the key."""

from __future__ import annotations

import time

import pytest

from connections.engines import EngineError, open_adapter
from connections.engines.browse import ObjectBrowsing
from connections.engines.gcs.adapter import GCSAdapter
from tests.cloudstores import gcs_client, service_account_key, unique
from tests.services import Servers


def test_check_names_the_api_and_measures_latency(servers: Servers) -> None:
    with open_adapter(servers.gcs.params()) as adapter:
        info = adapter.check()
    assert info.version.startswith("Google Cloud Storage JSON API v1") and info.latency_ms > 0
    assert info.detail == "project dbdeck-test"


def test_check_of_a_named_bucket_reads_that_bucket(servers: Servers) -> None:
    bucket = unique("check")
    gcs_client(servers.gcs).create_bucket(bucket)
    with open_adapter(servers.gcs.params(database=bucket)) as adapter:
        assert "bucket in" in adapter.check().detail


def test_a_missing_bucket_is_named(servers: Servers) -> None:
    with open_adapter(servers.gcs.params(database="no-such-bucket-here")) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "database" and "bucket" in err.value.message


def test_a_closed_port_answers_within_six_seconds(servers: Servers, closed_port: int) -> None:
    started = time.monotonic()
    with open_adapter(servers.gcs.params(port=closed_port)) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert time.monotonic() - started < 6
    assert err.value.kind == "unreachable" and str(closed_port) in err.value.message


def test_a_key_whose_token_exchange_is_refused_reports_auth_without_echoing_it(servers: Servers) -> None:
    # The token endpoint is the emulator itself (the approved host), which refuses the exchange as Google would.
    key = service_account_key(token_uri=f"http://{servers.gcs.host}:{servers.gcs.port}/token")
    params = servers.gcs.params(password=key, extra={"project": "dbdeck-test", "gcs_auth": "key"})
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "auth" and "key" in err.value.message
    assert "PRIVATE KEY" not in err.value.message and "dbdeck@" not in err.value.message


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("not json at all", "config"),
        ('{"type": "authorized_user"}', "config"),
        (service_account_key(private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"), "auth"),
    ],
)
def test_a_damaged_key_is_explained_before_anything_is_sent(servers: Servers, key: str, kind: str) -> None:
    params = servers.gcs.params(password=key, extra={"project": "dbdeck-test", "gcs_auth": "key"})
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == kind and "nope" not in err.value.message


def test_a_key_naming_another_token_endpoint_is_refused(servers: Servers) -> None:
    key = service_account_key(token_uri="http://169.254.169.254/computeMetadata/v1/token")
    params = servers.gcs.params(password=key, extra={"project": "dbdeck-test", "gcs_auth": "key"})
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "config" and "token_uri" in err.value.message


def test_key_mode_without_a_key_asks_for_one(servers: Servers) -> None:
    params = servers.gcs.params(extra={"project": "dbdeck-test", "gcs_auth": "key"})
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.check()
    assert err.value.kind == "auth" and "key" in err.value.message


def test_an_emulator_connection_needs_a_project() -> None:
    errors = GCSAdapter.validate({"host": "127.0.0.1", "gcs_auth": "anonymous", "project": ""})
    assert "project" in errors


def test_a_viewer_write_is_refused_before_it_is_sent(servers: Servers) -> None:
    bucket = unique("ro")
    gcs_client(servers.gcs).create_bucket(bucket).blob("keep").upload_from_string(b"kept")
    params = servers.gcs.params(extra={**servers.gcs.extra, "read_only": True}, port=1)  # port 1: nothing listens
    with open_adapter(params) as adapter, pytest.raises(EngineError) as err:
        adapter.get(ObjectBrowsing).delete_object(bucket, "keep")
    assert err.value.kind == "permission"
    assert gcs_client(servers.gcs).bucket(bucket).blob("keep").download_as_bytes() == b"kept"


def test_close_is_idempotent(servers: Servers) -> None:
    adapter = open_adapter(servers.gcs.params())
    adapter.check()
    adapter.close()
    adapter.close()
    assert adapter._client is None
