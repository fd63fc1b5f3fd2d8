"""Take over ConnectionGrant from accounts: state only, on the existing accounts_connectiongrant table.

Its content type is relabelled too, so admin permissions and log entries that point at it stay valid.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def relabel_content_type(app_label_from: str, app_label_to: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        if not content_type.objects.using(db).filter(app_label=app_label_to, model="connectiongrant").exists():
            content_type.objects.using(db).filter(app_label=app_label_from, model="connectiongrant").update(
                app_label=app_label_to
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_connectiongrant_moves_to_connections"),
        ("connections", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ConnectionGrant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[("viewer", "Viewer"), ("editor", "Editor"), ("admin", "Admin")], max_length=10
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "connection",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to="connections.connection",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_connectiongrant",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "connection"), name="one_grant_per_connection")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            relabel_content_type("accounts", "connections"),
            relabel_content_type("connections", "accounts"),
            elidable=True,
        ),
    ]
