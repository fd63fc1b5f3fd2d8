"""A 10,000-object prefix in Cloud Storage and Azure comes in bounded pages, by continuation, all of it once.

gcp-storage-emulator ignores maxResults and answers every object with no page token, so
there dbdeck's own cap makes the pages; Azurite honours maxresults and its markers.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from connections.engines import open_adapter
from connections.engines.browse import ObjectBrowsing
from connections.models import Connection
from tests.cloudstores import Arranger
from tests.fixtures import People, client_for
from tests.services import Servers

COUNT = 10_000
PAGE = 1000


@pytest.fixture(scope="module", params=["gcs", "azure"])
def loaded(request: pytest.FixtureRequest, servers: Servers) -> tuple[Arranger, str]:
    store = Arranger(request.param, getattr(servers, request.param))
    bucket = store.bucket("paging")
    # gcp-storage-emulator serves one request at a time (a plain HTTPServer): no point in more clients.
    with ThreadPoolExecutor(max_workers=1 if request.param == "gcs" else 8) as pool:
        list(pool.map(lambda i: store.put(bucket, f"big/{i:05d}.log", b"x"), range(COUNT)))
    store.put(bucket, "big/sub/inner.log", b"y")
    return store, bucket


def test_every_page_is_bounded_and_together_they_hold_each_object_once(loaded: tuple[Arranger, str]) -> None:
    store, bucket = loaded
    names: list[str] = []
    token, pages = None, 0
    with open_adapter(store.server.params()) as adapter:
        objects = adapter.get(ObjectBrowsing)
        while True:
            listing = objects.list_objects(bucket, prefix="big/", token=token, limit=PAGE)
            assert len(listing.items) <= PAGE
            names.extend(item.name for item in listing.items)
            pages += 1
            token = listing.next_cursor
            if not token:
                break
    expected = sorted([f"{i:05d}.log" for i in range(COUNT)] + ["sub/"])
    assert sorted(names) == expected and len(names) == len(set(names))
    assert pages == 11


def test_the_first_page_over_http_shows_a_thousand_and_a_next_link(
    loaded: tuple[Arranger, str], people: People
) -> None:
    store, bucket = loaded
    conn: Connection = store.connection(people.acme)
    client = client_for(people.carol)
    url = reverse("explorer:browse", args=[conn.pk])
    first = client.get(url + "?" + urlencode({"ns": bucket, "prefix": "big/"})).content.decode()
    assert first.count("/browse/object/?") == PAGE and "00999.log" in first and "01000.log" not in first
    more = re.search(r'href="(\?[^"]*token=[^"]+)">Next page', first)
    assert more is not None
    second = client.get(url + more.group(1).replace("&amp;", "&")).content.decode()
    assert "01000.log" in second and "00999.log" not in second
