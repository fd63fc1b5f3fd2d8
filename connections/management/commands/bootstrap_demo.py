"""First-run set-up for the embedded mode: a demo team, an admin, a demo SQLite database.

Safe to run again: it reuses whatever exists and prints the admin login only
when it creates the account.
"""

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.models import Membership, Role, Team
from audit.record import record
from connections.demo import build_demo_sqlite
from connections.models import Connection
from connections.policy import team_folder

DEMO_TEAM = "Demo team"
DEMO_CONNECTION = "Demo shop (SQLite)"
DEMO_FILE = "demo-shop.sqlite3"


class Command(BaseCommand):
    help = "Create the demo team, an admin user and the demo SQLite connection if missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--orders", type=int, default=250_000, help="rows in the demo orders table")

    def handle(self, *args: Any, username: str, orders: int, **options: Any) -> None:
        team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=username, email="", password=password)
            record("user.create", actor=user, team=team, target=username, via="bootstrap_demo")
            self.stdout.write(self.style.SUCCESS(f"Admin login (shown once): {username} / {password}"))
        else:
            self.stdout.write(f"Admin user {username!r} exists; reset its password with `manage.py changepassword`.")
        _, created = Membership.objects.get_or_create(user=user, team=team, defaults={"role": Role.ADMIN})
        if created:
            record("member.add", actor=user, team=team, target=username, role=Role.ADMIN, via="bootstrap_demo")

        # SQLite files live in their team's own folder: <root>/<team id>/.
        root = Path(settings.DBDECK_SQLITE_ROOTS[0]).resolve()
        folder = team_folder(root, team.pk)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / DEMO_FILE
        legacy = root / DEMO_FILE  # where releases before per-team folders built it
        if not path.exists() and legacy.is_file():
            self.stdout.write(f"Moving the demo database into the demo team's folder: {path}")
            legacy.rename(path)
        if not path.exists():
            self.stdout.write(f"Building the demo database at {path} ...")
            counts = build_demo_sqlite(path, orders=orders)
            self.stdout.write(", ".join(f"{table}: {n:,}" for table, n in counts.items()))
        connection, created = Connection.objects.get_or_create(
            team=team,
            name=DEMO_CONNECTION,
            defaults={"engine": "sqlite", "database": str(path), "created_by": user},
        )
        if created:
            record("connection.create", actor=user, connection=connection, target=connection.name, via="bootstrap_demo")
        elif connection.database != str(path) and Path(connection.database).name == DEMO_FILE:
            before, connection.database = connection.database, str(path)
            connection.save(update_fields=["database", "updated_at"])
            record(
                "connection.update",
                actor=user,
                connection=connection,
                target=connection.name,
                changes={"database": str(path)},
                before=before,
                via="bootstrap_demo",
            )
        self.stdout.write(self.style.SUCCESS("Demo ready."))
