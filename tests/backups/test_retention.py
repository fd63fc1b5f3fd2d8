"""Grandfather-father-son retention as a pure function, checked by properties over random histories."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from backups.retention import Kept, Policy, keep

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
histories = st.lists(
    st.tuples(st.integers(0, 400 * 24), st.booleans()), min_size=0, max_size=60, unique_by=lambda t: t[0]
).map(lambda xs: [Kept(i, START + dt.timedelta(hours=h), v) for i, (h, v) in enumerate(xs)])
policies = st.builds(Policy, st.integers(0, 5), st.integers(0, 8), st.integers(0, 5), st.integers(0, 13))


@given(histories, policies)
def test_retention_keeps_only_known_backups_and_never_more_than_the_policy_allows(items: list[Kept], p: Policy) -> None:
    kept = keep(items, p)
    assert kept <= {b.id for b in items}
    assert len(kept) <= p.last + p.daily + p.weekly + p.monthly + 1


@given(histories, policies)
def test_the_newest_backup_that_passed_a_restore_test_is_never_deleted(items: list[Kept], p: Policy) -> None:
    verified = [b for b in items if b.verified]
    if verified:
        assert max(verified, key=lambda b: b.taken_at).id in keep(items, p)


@given(histories, policies)
def test_the_newest_n_are_kept_and_each_of_the_newest_days_keeps_its_newest(items: list[Kept], p: Policy) -> None:
    kept = keep(items, p)
    ordered = sorted(items, key=lambda b: b.taken_at, reverse=True)
    assert {b.id for b in ordered[: p.last]} <= kept
    days: dict[dt.date, Kept] = {}
    for b in ordered:
        days.setdefault(b.taken_at.date(), b)
    for day in sorted(days, reverse=True)[: p.daily]:
        assert days[day].id in kept


@given(histories, policies)
def test_applying_retention_twice_deletes_nothing_more(items: list[Kept], p: Policy) -> None:
    kept = keep(items, p)
    assert keep([b for b in items if b.id in kept], p) == kept


def test_an_empty_policy_still_keeps_the_newest_verified_backup() -> None:
    items = [Kept(1, START, True), Kept(2, START + dt.timedelta(days=1), False)]
    assert keep(items, Policy(0, 0, 0, 0)) == {1}
