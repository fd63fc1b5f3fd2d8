"""What a newcomer sees first: the connection list and the grid's estimate."""

from __future__ import annotations

from django.urls import reverse

from connections.models import Connection
from explorer.templatetags.explorer import approx
from tests.fixtures import People, client_for


def test_the_connection_list_links_each_connection_to_its_browser(people: People, acme_sqlite: Connection) -> None:
    body = client_for(people.carol).get(reverse("connections:list")).content.decode()
    assert f'href="{reverse("explorer:browse", args=[acme_sqlite.pk])}">Browse</a>' in body


def test_a_sqlite_target_shows_its_path_without_a_leading_slash_separator(
    people: People, acme_sqlite: Connection
) -> None:
    body = client_for(people.alice).get(reverse("connections:list")).content.decode()
    assert f'<span class="muted">{acme_sqlite.database[:30]}' in body
    assert " / /" not in body


def test_the_estimate_filter_leaves_the_approximate_sign_to_the_template() -> None:
    assert approx(250_000) == "250.0k"
    assert approx(1234) == "1,234"
    assert "≈" not in approx(5_000_000_000)


def test_the_grid_prints_the_approximate_sign_once(people: People, acme_sqlite: Connection) -> None:
    import sqlite3

    with sqlite3.connect(acme_sqlite.database) as db:
        db.execute("ANALYZE")  # SQLite's estimates come from sqlite_stat1
    url = reverse("explorer:browse", args=[acme_sqlite.pk]) + "?ns=main&obj=t"
    body = client_for(people.carol).get(url).content.decode()
    assert "≈ 1 rows (estimate)" in body and body.count("≈") == 1
