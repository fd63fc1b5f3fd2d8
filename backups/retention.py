"""Grandfather-father-son retention as a pure function, and its application to a plan's artifacts.

`keep()` takes every backup as (id, taken at, passed a restore-test) and the plan's numbers:
the newest `last`, the newest backup of each of the newest `daily` days, `weekly` ISO weeks and
`monthly` months that have one, and always the newest backup that passed a restore-test.
Everything else may go; every deletion is audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    id: int
    taken_at: dt.datetime
    verified: bool = False


@dataclass(frozen=True)
class Policy:
    last: int = 7
    daily: int = 7
    weekly: int = 4
    monthly: int = 6


def _newest_per(items: list[Kept], bucket: Callable[[dt.datetime], Hashable], how_many: int) -> set[int]:
    chosen: dict[Hashable, int] = {}
    for item in items:  # newest first: the first seen in a bucket is its newest
        key = bucket(item.taken_at)
        if key not in chosen:
            if len(chosen) >= how_many:
                break
            chosen[key] = item.id
    return set(chosen.values())


def keep(backups: Iterable[Kept], policy: Policy) -> set[int]:
    items = sorted(backups, key=lambda b: (b.taken_at, b.id), reverse=True)
    kept = {b.id for b in items[: max(0, policy.last)]}
    kept |= _newest_per(items, lambda t: t.date(), policy.daily)
    kept |= _newest_per(items, lambda t: t.isocalendar()[:2], policy.weekly)
    kept |= _newest_per(items, lambda t: (t.year, t.month), policy.monthly)
    verified = next((b for b in items if b.verified), None)
    if verified is not None:
        kept.add(verified.id)
    return kept


def apply_retention(plan: object) -> list[int]:
    """Delete the plan's artifacts that `keep()` lets go; returns their ids."""
    from django.utils import timezone

    from audit.record import record
    from backups.models import Artifact, RunStatus
    from backups.runner import store_for

    artifacts = list(Artifact.objects.filter(plan=plan, deleted_at__isnull=True))
    passed = set(
        Artifact.objects.filter(plan=plan, restore_tests__status=RunStatus.SUCCEEDED).values_list("pk", flat=True)
    )
    policy = Policy(plan.keep_last, plan.keep_daily, plan.keep_weekly, plan.keep_monthly)  # type: ignore[attr-defined]
    local = getattr(plan, "timezone", "UTC")
    tz = _zone(local)
    kept = keep([Kept(a.pk, a.created_at.astimezone(tz), a.pk in passed) for a in artifacts], policy)
    gone = []
    for artifact in artifacts:
        if artifact.pk in kept:
            continue
        try:
            store_for(artifact.destination, artifact.location).remove()
        except Exception as exc:  # the destination is down: try again after the next run
            log.warning("retention could not delete %s: %s", artifact.manifest_url, exc)
            continue
        Artifact.objects.filter(pk=artifact.pk).update(deleted_at=timezone.now())
        record(
            "backup.retention_delete",
            connection=plan.connection,  # type: ignore[attr-defined]
            target=artifact.manifest_url,
            artifact=artifact.pk,
            taken_at=artifact.created_at.isoformat(),
        )
        gone.append(artifact.pk)
    return gone


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC
