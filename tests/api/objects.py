"""One of every object the API's paths name, all Acme's, and how a path's parameters point at them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connections.models import Connection
from tests.fixtures import People


@dataclass
class Objects:
    connection: int
    export: int
    plan: int
    backup_run: int
    restore_test: int
    console_run: int
    console_result: int
    saved_plan: str
    index_job: int

    def path_ids(self, path: str) -> dict[str, Any]:
        """The value of each path parameter of `path` (`{pk}` means a plan, run or test under /backups/,
        an index job under /index-jobs/)."""
        pk: int = self.connection
        if path.startswith("/api/v1/backups/plans/"):
            pk = self.plan
        elif path.startswith("/api/v1/backups/runs/"):
            pk = self.backup_run
        elif path.startswith("/api/v1/backups/restore-tests/"):
            pk = self.restore_test
        elif path.startswith("/api/v1/index-jobs/"):
            pk = self.index_job
        return {
            "pk": pk,
            "export_pk": self.export,
            "run_pk": self.console_run,
            "result_pk": self.console_result,
            "token": self.saved_plan,
        }

    def fill(self, path: str) -> str:
        for name, value in self.path_ids(path).items():
            path = path.replace("{" + name + "}", str(value))
        return path


def make(connection: Connection, people: People, owner: Any = None) -> Objects:
    """An export, a backup plan with a run, artifact and restore-test, a console run with a result, a saved
    plan and an index job, on `connection`, made by `owner` (alice unless given)."""
    from backups.models import Artifact, BackupPlan, BackupRun, Destination, RestoreTest, RunStatus
    from connections.engines.plantree import plan_to_dict
    from connections.engines.results import Plan, PlanNode
    from explorer.console.models import ConsoleResult, ConsoleRun, ConsoleSession, SessionStatus
    from explorer.models import Export, IndexJob, SavedPlan

    owner = owner or people.alice
    export = Export.objects.create(connection=connection, user=owner, obj="t", max_rows=1, state="obj=t")
    destination = Destination.objects.create(team=people.acme, name="Local", kind="local")
    plan = BackupPlan.objects.create(connection=connection, name="nightly", destination=destination)
    run = BackupRun.objects.create(plan=plan, status=RunStatus.SUCCEEDED, started_by=owner)
    artifact = Artifact.objects.create(run=run, plan=plan, destination=destination, location="x", manifest_url="x")
    test = RestoreTest.objects.create(artifact=artifact, plan=plan, status=RunStatus.SUCCEEDED)
    session = ConsoleSession.objects.create(connection=connection, user=owner, status=SessionStatus.CLOSED)
    console_run = ConsoleRun.objects.create(session=session, text="SELECT 1", status="done")
    result = ConsoleResult.objects.create(run=console_run, statement=0, text="SELECT 1", columns=["1"])
    plan_tree = plan_to_dict(Plan(root=PlanNode("Result"), analyzed=False, raw="Result  (cost=0.00..0.01 rows=1)"))
    saved = SavedPlan.objects.create(
        connection=connection, user=owner, statement="SELECT 1", tree=plan_tree, raw="Result", node_count=1
    )
    index_job = IndexJob.objects.create(connection=connection, user=owner, action="create", obj="t", columns=["a"])
    return Objects(
        connection=connection.pk,
        export=export.pk,
        plan=plan.pk,
        backup_run=run.pk,
        restore_test=test.pk,
        console_run=console_run.pk,
        console_result=result.pk,
        saved_plan=str(saved.token),
        index_job=index_job.pk,
    )
