"""Alert rules per connection, the alert history, acknowledge and silence."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.record import record
from config.notify import WebhookRefused, check_webhook_url
from connections.access import get_connection_for
from monitoring.models import AlertEvent, AlertKind, AlertRule, AlertState


@login_required
def alerts_page(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk)
    rules = {r.kind: r for r in AlertRule.objects.filter(connection=access.connection)}
    ctx = {
        "connection": access.connection,
        "kinds": [(kind, label, rules.get(kind)) for kind, label in AlertKind.choices],
        "events": AlertEvent.objects.filter(connection=access.connection).select_related("acknowledged_by")[:200],
        "is_admin": access.role.allows(Role.ADMIN),
        "can_ack": access.role.allows(Role.EDITOR),
        "now": timezone.now(),
    }
    return render(request, "monitoring/alerts.html", ctx)


@login_required
@require_POST
def rule_save(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk, need=Role.ADMIN)
    back = reverse("monitoring:alerts", args=[pk])
    kind = request.POST.get("kind", "")
    if kind not in AlertKind.values:
        messages.error(request, "Choose one of the alert kinds.")
        return HttpResponseRedirect(back)
    if request.POST.get("delete"):
        AlertRule.objects.filter(connection=access.connection, kind=kind).delete()
        record("monitoring.rule_delete", request=request, connection=access.connection, kind=kind)
        return HttpResponseRedirect(back)
    try:
        threshold = float(request.POST.get("threshold", "0") or 0)
        if not 0 <= threshold < 1e12:
            raise ValueError
    except ValueError:
        messages.error(request, "The threshold is a number of zero or more.")
        return HttpResponseRedirect(back)
    emails = [e.strip() for e in request.POST.get("emails", "").split(",") if e.strip()][:20]
    webhook = request.POST.get("webhook", "").strip()[:500]
    try:
        for email in emails:
            validate_email(email)
        if webhook:
            check_webhook_url(webhook)
    except ValidationError:
        messages.error(request, "One of the email addresses is not valid.")
        return HttpResponseRedirect(back)
    except WebhookRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    AlertRule.objects.update_or_create(
        connection=access.connection,
        kind=kind,
        defaults={"threshold": threshold, "emails": ",".join(emails), "webhook": webhook, "created_by": request.user},
    )
    record("monitoring.rule_save", request=request, connection=access.connection, kind=kind, threshold=threshold)
    messages.success(request, "Alert rule saved.")
    return HttpResponseRedirect(back)


@login_required
@require_POST
def event_acknowledge(request: HttpRequest, pk: int, event: int) -> HttpResponse:
    access = get_connection_for(request.user, pk, need=Role.EDITOR)
    found = get_object_or_404(AlertEvent, pk=event, connection=access.connection)
    if found.state == AlertState.FIRING:
        AlertEvent.objects.filter(pk=found.pk).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_by=request.user, acknowledged_at=timezone.now()
        )
        record("monitoring.alert_acknowledge", request=request, connection=access.connection, target=str(found.pk))
    return HttpResponseRedirect(reverse("monitoring:alerts", args=[pk]))


@login_required
@require_POST
def rule_silence(request: HttpRequest, pk: int) -> HttpResponse:
    access = get_connection_for(request.user, pk, need=Role.ADMIN)
    rule = get_object_or_404(AlertRule, connection=access.connection, kind=request.POST.get("kind", ""))
    try:
        hours = min(max(float(request.POST.get("hours", "1")), 0), 24 * 30)
    except ValueError:
        hours = 1
    rule.silenced_until = timezone.now() + dt.timedelta(hours=hours) if hours else None
    rule.save(update_fields=["silenced_until"])
    record("monitoring.rule_silence", request=request, connection=access.connection, kind=rule.kind, hours=hours)
    return HttpResponseRedirect(reverse("monitoring:alerts", args=[pk]))
