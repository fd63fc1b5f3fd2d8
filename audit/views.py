from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import teams_for
from accounts.models import Role
from audit.models import AuditEvent
from explorer import numbers

PAGE = 100


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    """Audit events of the teams the user administers, newest first, keyset-paged by id."""
    teams = teams_for(request.user, Role.ADMIN)
    if not teams.exists():
        raise PermissionDenied("The audit log is for team admins.")
    events = AuditEvent.objects.select_related("team").order_by("-id")
    if not request.user.is_superuser:
        events = events.filter(team__in=teams)
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    before = numbers.parse_int_or_none(request.GET.get("before"), name="event id", minimum=0)
    if before is not None:
        events = events.filter(id__lt=before)
    page = list(events[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    ctx = {"events": page, "next_before": page[-1].id if more else None, "action": action}
    return render(request, "audit/list.html", ctx)
