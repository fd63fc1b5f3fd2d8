"""Manual restores onto a chosen connection: the dry-run listing, then a task that restores with clean."""

from __future__ import annotations

from typing import Any

from backups import manifest
from backups.models import Artifact
from connections.engines import EngineError
from connections.engines.capabilities import Backup


def dry_run(artifact: Artifact, target: Any) -> list[dict[str, Any]]:
    """What the restore would replace: each object of the manifest, and what the target holds now."""
    made = manifest.from_dict(artifact.manifest)
    with target.adapter() as adapter:
        backup = adapter.get(Backup)
        if backup is None:
            raise EngineError(f"{adapter.display_name} has no restores.", kind="config")
        try:
            now = {o.name: o for o in backup.count(made.scope, target.database)}
        except EngineError:
            now = {}
    return [
        {
            "name": o.name,
            "kind": o.kind,
            "count": o.count,
            "exists": o.name in now,
            "count_now": now[o.name].count if o.name in now else None,
        }
        for o in made.objects
    ]


def queue_restore(artifact: Artifact, target: Any, user: Any) -> str:
    from django.db import transaction

    from backups.tasks import run_manual_restore

    holder: list[str] = []
    transaction.on_commit(lambda: holder.append(str(run_manual_restore.delay(artifact.pk, target.pk, user.pk).id)))
    return f"restore of artifact {artifact.pk} onto {target.name}"


def restore_onto(artifact: Artifact, target: Any) -> Any:
    from backups.restore_tests import restore_into
    from backups.runner import store_for

    store = store_for(artifact.destination, artifact.location)
    with target.adapter() as adapter:
        backup = adapter.get(Backup)
        if backup is None:
            raise EngineError(f"{adapter.display_name} has no restores.", kind="config")
        return restore_into(store, artifact.manifest, backup, target.database, clean=True)
