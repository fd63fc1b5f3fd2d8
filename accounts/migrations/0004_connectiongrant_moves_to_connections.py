"""ConnectionGrant now belongs to the connections app: leave the state here, keep the table and its rows.

connections.0002_connectiongrant takes the model over, with db_table pointing at this same table.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_oidc_identity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ConnectionGrant")],
            database_operations=[],
        ),
    ]
