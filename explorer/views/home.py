from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from connections.access import connections_for


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "explorer/index.html", {"connections": connections_for(request.user)})
