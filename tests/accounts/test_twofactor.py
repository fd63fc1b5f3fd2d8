"""TOTP two-factor: enrolment, the code step after the password, recovery codes, required modes, the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.fixtures import PASSWORD, People, client_for


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(current_code(device)) + 500_000) % 1_000_000:06d}"


def with_device(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def password_login(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def verify(client: Client, device: Any) -> None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def test_the_enrol_page_shows_the_secret_and_the_otpauth_uri(people: People) -> None:
    client = client_for(people.alice)
    page = client.get(reverse("twofactor")).content.decode()
    device = TOTPDevice.objects.get(user=people.alice, confirmed=False)
    assert "otpauth://totp/" in page
    assert device.config_url.split("secret=")[1].split("&")[0] in page
    qr = client.get(reverse("twofactor_qr"))
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg")


def test_enrolling_with_a_real_code_confirms_the_device_and_shows_ten_recovery_codes(people: People) -> None:
    client = client_for(people.alice)
    client.get(reverse("twofactor"))
    device = TOTPDevice.objects.get(user=people.alice)
    response = client.post(reverse("twofactor_confirm"), {"token": current_code(device)})
    device.refresh_from_db()
    assert device.confirmed
    codes = list(StaticToken.objects.filter(device__user=people.alice).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in response.content.decode() for code in codes)
    assert client.get(reverse("connections:list")).status_code == 200  # the enrolling session is verified
    assert AuditEvent.objects.filter(action="2fa.enabled", actor=people.alice).exists()


def test_enrolling_with_a_wrong_code_leaves_two_factor_off(people: People) -> None:
    client = client_for(people.alice)
    client.get(reverse("twofactor"))
    device = TOTPDevice.objects.get(user=people.alice)
    response = client.post(reverse("twofactor_confirm"), {"token": wrong_code(device)}, follow=True)
    device.refresh_from_db()
    assert not device.confirmed
    assert "did not match" in response.content.decode()
    assert not StaticDevice.objects.filter(user=people.alice).exists()


def test_a_user_with_a_device_must_enter_a_code_after_the_password(people: People) -> None:
    with_device(people.bob)
    client = password_login("bob")
    response = client.get(reverse("connections:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login_code"))
    assert AuditEvent.objects.get(action="login.ok", actor=people.bob).detail["second_factor"] == "pending"


def test_the_current_code_completes_the_login(people: People) -> None:
    device = with_device(people.bob)
    client = password_login("bob")
    response = client.post(reverse("login_code"), {"token": current_code(device), "next": reverse("accounts:teams")})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:teams")
    assert client.get(reverse("connections:list")).status_code == 200
    assert AuditEvent.objects.filter(action="login.verified", actor=people.bob).exists()


def test_a_wrong_code_is_refused_and_the_session_stays_unverified(people: People) -> None:
    device = with_device(people.bob)
    client = password_login("bob")
    response = client.post(reverse("login_code"), {"token": wrong_code(device)})
    assert response.status_code == 200
    assert "not accepted" in response.content.decode()
    assert client.get(reverse("connections:list")).status_code == 302
    assert AuditEvent.objects.filter(action="login.code_failed", target="bob").exists()


def test_a_recovery_code_works_once(people: People) -> None:
    with_device(people.bob)
    recovery = StaticDevice.objects.create(user=people.bob, name="Recovery codes")
    recovery.token_set.create(token="abcd2345")
    first = password_login("bob")
    assert first.post(reverse("login_code"), {"token": "abcd 2345"}).status_code == 302
    assert first.get(reverse("connections:list")).status_code == 200
    second = password_login("bob")
    assert second.post(reverse("login_code"), {"token": "abcd2345"}).status_code == 200
    assert second.get(reverse("connections:list")).status_code == 302


def test_without_a_device_force_login_keeps_working_when_two_factor_is_off(people: People) -> None:
    assert client_for(people.alice).get(reverse("connections:list")).status_code == 200


def test_above_viewer_mode_sends_an_editor_without_a_device_to_enrolment(people: People, settings: Any) -> None:
    settings.DBDECK_REQUIRE_2FA = "above_viewer"
    response = client_for(people.bob).get(reverse("connections:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("twofactor"))
    assert client_for(people.bob).get(reverse("twofactor")).status_code == 200


def test_above_viewer_mode_leaves_a_viewer_alone(people: People, settings: Any) -> None:
    settings.DBDECK_REQUIRE_2FA = "above_viewer"
    assert client_for(people.carol).get(reverse("connections:list")).status_code == 200


def test_all_mode_sends_a_viewer_to_enrolment_but_lets_her_log_out(people: People, settings: Any) -> None:
    settings.DBDECK_REQUIRE_2FA = "all"
    client = client_for(people.carol)
    assert client.get(reverse("accounts:teams"))["Location"].startswith(reverse("twofactor"))
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_admin_refuses_an_unverified_session_when_two_factor_is_required(people: People, settings: Any) -> None:
    settings.DBDECK_REQUIRE_2FA = "all"
    people.alice.is_staff = people.alice.is_superuser = True
    people.alice.save()
    device = with_device(people.alice)
    client = client_for(people.alice)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:index") not in response["Location"].split("?")[0]
    verify(client, device)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_site_itself_refuses_an_unverified_superuser(people: People, rf: Any, settings: Any) -> None:
    from django.contrib.sessions.backends.db import SessionStore

    settings.DBDECK_REQUIRE_2FA = "all"
    people.alice.is_staff = people.alice.is_superuser = True
    people.alice.save()
    request = rf.get("/admin/")
    request.session = SessionStore()
    request.user = people.alice
    people.alice.is_verified = lambda: False  # what django-otp's middleware sets for an unverified session
    assert not admin.site.has_permission(request)
    people.alice.is_verified = lambda: True
    assert admin.site.has_permission(request)


def test_turning_two_factor_off_removes_the_devices(people: People) -> None:
    device = with_device(people.alice)
    client = client_for(people.alice)
    verify(client, device)
    client.post(reverse("twofactor_disable"))
    assert not TOTPDevice.objects.filter(user=people.alice).exists()
    assert AuditEvent.objects.filter(action="2fa.disabled").exists()


def test_an_unverified_session_cannot_turn_two_factor_off(people: People) -> None:
    with_device(people.alice)
    client = password_login("alice")
    client.post(reverse("twofactor_disable"))
    assert TOTPDevice.objects.filter(user=people.alice).exists()
