"""A Cloud Storage key and an Azure account key go in through the form, encrypted, and never come out."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from tests.cloudstores import service_account_key
from tests.connections.test_connection_pages import form_data
from tests.fixtures import People, client_for
from tests.services import Servers


def cloud_form(engine: str, servers: Servers, people: People) -> tuple[dict[str, Any], str, str]:
    """The connection form as a person fills it in; (fields, the secret, a piece of it to look for)."""
    server = getattr(servers, engine)
    if engine == "gcs":
        secret = service_account_key()
        marker = json.loads(secret)["private_key"].splitlines()[1][:40]
        fields = {"project": server.extra["project"], "gcs_auth": "anonymous", "username": ""}
    else:
        secret, marker = server.password, server.password[:24]
        fields = {"username": server.username, "azure_auth": "key", "azure_url_style": "path"}
    data = form_data(
        name=f"{engine} store",
        engine=engine,
        team=people.acme.pk,
        host=server.host,
        port=str(server.port),
        database="",
        secret=secret,
        **fields,
    )
    return data, secret, marker


@pytest.mark.parametrize("engine", ["gcs", "azure"])
def test_the_key_is_stored_encrypted_works_and_never_appears_in_a_page(
    engine: str, servers: Servers, people: People
) -> None:
    client = client_for(people.alice)
    data, secret, marker = cloud_form(engine, servers, people)
    response = client.post(reverse("connections:create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    conn = Connection.objects.get(name=f"{engine} store")
    assert marker not in conn.secret_token and conn.params().password == secret
    checked = client.post(reverse("connections:test", args=[conn.pk]), HTTP_HX_REQUEST="true")
    assert checked.status_code == 200 and marker.encode() not in checked.content
    pages = [
        reverse("connections:detail", args=[conn.pk]),
        reverse("connections:edit", args=[conn.pk]),
        reverse("explorer:browse", args=[conn.pk]),
        reverse("explorer:browse", args=[conn.pk]) + "?" + urlencode({"ns": "no-such-bucket"}),
        reverse("audit:list"),
    ]
    for url in pages:
        body = client.get(url).content
        assert marker.encode() not in body, url
    assert marker not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_the_form_labels_the_secret_for_each_store(people: People) -> None:
    body = client_for(people.alice).get(reverse("connections:create")).content.decode()
    assert "Service-account JSON key" in body and "Account key or SAS token" in body
    assert "Storage account name" in body and "Project (Google Cloud Storage)" in body
