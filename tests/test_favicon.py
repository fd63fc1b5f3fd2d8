"""/favicon.ico, which browsers ask for on their own, leads to the real icon."""

from __future__ import annotations

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures import People, client_for


def test_favicon_ico_redirects_to_the_svg_icon(db: None) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"
    icon = Client().get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"".join(icon.streaming_content).lstrip().startswith(b"<svg")


def test_favicon_ico_is_not_sent_to_the_code_step_of_an_unfinished_login(people: People) -> None:
    TOTPDevice.objects.create(user=people.alice, name="phone", confirmed=True)
    client = client_for(people.alice)  # signed in with a password, second factor still due
    assert client.get("/connections/")["Location"].startswith("/login/code/")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/img/favicon.svg"
