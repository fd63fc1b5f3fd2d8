"""Re-encrypt every stored secret under the first key of DBDECK_FERNET_KEYS.

Rotation: put the new key first and keep the old one after it, run this
command, then drop the old key.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from audit.record import record
from connections import crypto
from connections.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every connection secret under the first DBDECK_FERNET_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for connection in Connection.objects.select_for_update().only(
                "pk", "secret_token", "readonly_secret_token"
            ):
                secret = crypto.rotate(connection.secret_token)
                readonly = crypto.rotate(connection.readonly_secret_token)
                Connection.objects.filter(pk=connection.pk).update(secret_token=secret, readonly_secret_token=readonly)
                count += 1
            record("secrets.rotate", target="all connections", connections=count)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} connection(s)."))
