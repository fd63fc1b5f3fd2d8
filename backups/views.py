from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connections.access import connections_for


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Honest placeholder: says what is missing, lists what the user could use it on."""
    ctx = {
        "title": "Backups",
        "missing": "Scheduled, streamed backups and automatic restore-tests are not built yet.",
        "connections": connections_for(request.user),
    }
    return render(request, "placeholder.html", ctx)
