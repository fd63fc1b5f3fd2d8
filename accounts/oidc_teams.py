"""Identity-provider groups -> dbdeck team memberships, from DBDECK_OIDC_TEAM_MAP.

The map reads `group=Team:role,group=Team:role`. Teams named in the map are managed by the
identity provider: on each login a user's membership in each of them is set to the highest
role their groups give, and removed when no group gives one. Teams not named in the map
are left to dbdeck's own team pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.models import RANKS, Membership, Role, Team
from audit.record import record


def parse_team_map(text: str) -> dict[str, list[tuple[str, Role]]]:
    """'dba-admins=Acme:admin,analysts=Acme:viewer' -> {'dba-admins': [('Acme', ADMIN)], ...}."""
    mapping: dict[str, list[tuple[str, Role]]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        group, sep, target = item.partition("=")
        team, sep2, role = target.rpartition(":")
        if not (sep and sep2 and group.strip() and team.strip()) or role.strip() not in RANKS:
            raise ImproperlyConfigured(
                f"DBDECK_OIDC_TEAM_MAP entry {item!r} should read group=Team:role with role viewer, editor or admin."
            )
        mapping.setdefault(group.strip(), []).append((team.strip(), Role(role.strip())))
    return mapping


def groups_from_claims(claims: dict[str, Any], claim: str) -> set[str]:
    value = claims.get(claim) or []
    if isinstance(value, str):  # some providers send one space- or comma-separated string
        value = value.replace(",", " ").split()
    return {str(g) for g in value}


def wanted_roles(groups: set[str], mapping: dict[str, list[tuple[str, Role]]]) -> dict[str, Role]:
    wanted: dict[str, Role] = {}
    for group in groups:
        for team, role in mapping.get(group, []):
            if team not in wanted or role.rank > wanted[team].rank:
                wanted[team] = role
    return wanted


@transaction.atomic
def sync_memberships(user: Any, groups: set[str], mapping: dict[str, list[tuple[str, Role]]]) -> None:
    wanted = wanted_roles(groups, mapping)
    managed = {team for targets in mapping.values() for team, _ in targets}
    for name in managed:
        role = wanted.get(name)
        team = Team.objects.get_or_create(name=name)[0] if role else Team.objects.filter(name=name).first()
        if team is None:
            continue
        membership = Membership.objects.filter(user=user, team=team).first()
        if role is None:
            if membership is not None:
                membership.delete()
                record("member.remove", actor=user, team=team, target=user.username, via="sso")
        elif membership is None:
            Membership.objects.create(user=user, team=team, role=role)
            record("member.add", actor=user, team=team, target=user.username, role=role.value, via="sso")
        elif membership.role != role:
            before, membership.role = membership.role, role
            membership.save(update_fields=["role"])
            record(
                "member.role", actor=user, team=team, target=user.username, before=before, after=role.value, via="sso"
            )
