"""A user's own two-factor page: enrol an authenticator app, recovery codes, removal."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import CodeForm
from accounts.twofactor import must_enrol, user_has_device
from audit.record import record

RECOVERY_CODES = 10


def _pending_device(user: object) -> TOTPDevice:
    """The unconfirmed device being enrolled; kept across page loads so the QR code stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def _new_recovery_codes(user: object) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@never_cache
@login_required
def twofactor(request: HttpRequest) -> HttpResponse:
    if user_has_device(request.user):
        ctx = {
            "recovery_left": StaticToken.objects.filter(device__user=request.user).count(),
            "required": must_enrol(request.user),
        }
        return render(request, "accounts/twofactor.html", ctx)
    device = _pending_device(request.user)
    ctx = {
        "device": device,
        "secret": b32encode(device.bin_key).decode(),
        "form": CodeForm(),
        "required": must_enrol(request.user),
    }
    return render(request, "accounts/twofactor_enrol.html", ctx)


@never_cache
@login_required
def twofactor_qr(request: HttpRequest) -> HttpResponse:
    """The pending device's otpauth URI as an SVG QR code, drawn on the server (no script needed)."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        return HttpResponse(status=404)
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)
    return HttpResponse(svg, content_type="image/svg+xml")


@require_POST
@never_cache
@sensitive_post_parameters("token")
@login_required
def twofactor_confirm(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    form = CodeForm(request.POST)
    if device is None or user_has_device(request.user):
        messages.info(request, "Two-factor is already on, or enrolment restarted; check this page again.")
        return redirect("twofactor")
    if not form.is_valid() or not device.verify_token(form.cleaned_data["token"]):
        messages.error(
            request,
            "That code did not match. Check the phone's clock is right and enter the code shown now.",
        )
        return redirect("twofactor")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(request.user)
    otp_login(request, device)
    record("2fa.enabled", request=request, target=request.user.get_username())
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@never_cache
@login_required
def twofactor_recovery(request: HttpRequest) -> HttpResponse:
    # Reaching here with a device means the session is verified: the middleware sends others to the code step.
    if not user_has_device(request.user):
        return redirect("twofactor")
    codes = _new_recovery_codes(request.user)
    record("2fa.recovery_codes", request=request, target=request.user.get_username())
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@login_required
def twofactor_disable(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=request.user).delete()
        StaticDevice.objects.filter(user=request.user).delete()
    record("2fa.disabled", request=request, target=request.user.get_username())
    if must_enrol(request.user):
        messages.warning(request, "Two-factor is removed, but your role requires it: enrol a new device now.")
    else:
        messages.success(request, "Two-factor is off. You can turn it on again here at any time.")
    return redirect("twofactor")
