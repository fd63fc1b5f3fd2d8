"""The proof on every connection: last successful backup, last verified restore and its RTO, red or green.

Red when the newest restore-test of a plan failed, or none succeeded within the plan's window.
Three grouped queries for any number of connections, so the connection list stays one page cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils import timezone

from backups.models import BackupPlan, BackupRun, RestoreTest, RunStatus


@dataclass
class Badge:
    state: str  # "green" | "red"
    last_backup: dt.datetime | None
    last_verified: dt.datetime | None
    rto_seconds: float | None
    reason: str

    @property
    def label(self) -> str:
        return "verified" if self.state == "green" else "unverified"


def badges_for(connection_ids: list[int]) -> dict[int, Badge]:
    if not connection_ids:
        return {}
    plans = list(BackupPlan.objects.filter(connection_id__in=connection_ids, enabled=True))
    if not plans:
        return {}
    last_backup = dict(
        BackupRun.objects.filter(plan__connection_id__in=connection_ids, status=RunStatus.SUCCEEDED)
        .values("plan__connection_id")
        .annotate(at=Max("finished_at"))
        .values_list("plan__connection_id", "at")
    )
    newest_tests: dict[int, Any] = {}
    verified: dict[int, Any] = {}
    for test in (
        RestoreTest.objects.filter(
            plan__connection_id__in=connection_ids, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]
        )
        .order_by("plan_id", "-finished_at")
        .values("plan_id", "plan__connection_id", "status", "finished_at", "rto_seconds")
    ):
        newest_tests.setdefault(test["plan_id"], test)
        if test["status"] == RunStatus.SUCCEEDED:
            verified.setdefault(test["plan_id"], test)
    now = timezone.now()
    out: dict[int, Badge] = {}
    for plan in plans:
        cid = plan.connection_id
        newest, good = newest_tests.get(plan.pk), verified.get(plan.pk)
        if newest is not None and newest["status"] == RunStatus.FAILED:
            state, reason = "red", f"The newest restore-test of {plan.name} failed."
        elif good is None or now - (good["finished_at"] or now) > dt.timedelta(hours=plan.restore_window_hours):
            state, reason = "red", f"No restore-test of {plan.name} passed within {plan.restore_window_hours} h."
        else:
            state, reason = "green", ""
        badge = out.get(cid)
        if badge is None or state == "red" and badge.state == "green":
            out[cid] = Badge(
                state,
                last_backup.get(cid),
                good["finished_at"] if good else None,
                good["rto_seconds"] if good else None,
                reason,
            )
    return out
