"""Cron schedules in a time zone (croniter): the next run times, and which slots are due now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, croniter

BAD = (CroniterBadCronError, CroniterBadDateError, CroniterNotAlphaError, ValueError, KeyError)


class ScheduleError(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"Unknown time zone {name!r}; use a name like Europe/Berlin or UTC.") from None


def check(cron: str, tz: str) -> None:
    zone(tz)
    if "\x00" in cron or len(cron) > 100 or not croniter.is_valid(cron):
        raise ScheduleError(f"{cron!r} is not a cron expression (minute hour day month weekday).")


def next_times(cron: str, tz: str, after: dt.datetime, count: int = 5) -> list[dt.datetime]:
    check(cron, tz)
    it = croniter(cron, after.astimezone(zone(tz)))
    return [it.get_next(dt.datetime) for _ in range(count)]


def last_slot(cron: str, tz: str, now: dt.datetime) -> dt.datetime:
    """The newest scheduled time at or before `now`, in UTC."""
    check(cron, tz)
    it = croniter(cron, (now + dt.timedelta(seconds=1)).astimezone(zone(tz)))
    return it.get_prev(dt.datetime).astimezone(dt.UTC)


def due(cron: str, tz: str, now: dt.datetime, grace: dt.timedelta = dt.timedelta(minutes=10)) -> dt.datetime | None:
    """The slot to run now: the newest one, if it fell within `grace` (older ones were missed)."""
    if not cron:
        return None
    slot = last_slot(cron, tz, now)
    return slot if now - slot <= grace else None
