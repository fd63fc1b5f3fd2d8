from __future__ import annotations

import io
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import call_command

from accounts.models import Membership, Role
from connections.models import Connection
from connections.probe import probe


def test_bootstrap_creates_team_admin_and_demo_connection_once(db: object, sqlite_root: Path) -> None:
    out = io.StringIO()
    call_command("bootstrap_demo", orders=500, stdout=out)
    assert "Admin login (shown once): admin / " in out.getvalue()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and Membership.objects.get(user=admin).role == Role.ADMIN
    demo = Connection.objects.get()
    result = probe(demo)
    assert result.ok, result.message

    again = io.StringIO()
    call_command("bootstrap_demo", orders=500, stdout=again)
    assert "shown once" not in again.getvalue()
    assert Connection.objects.count() == 1 and User.objects.count() == 1
