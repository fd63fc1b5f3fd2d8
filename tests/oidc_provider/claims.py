"""What the test provider says about its users: names, e-mail, and Django groups as a `groups` claim."""

from __future__ import annotations

from typing import Any

from oidc_provider.lib.claims import ScopeClaims


def userinfo(claims: dict[str, Any], user: Any) -> dict[str, Any]:
    claims["preferred_username"] = user.username
    claims["email"] = user.email
    claims["name"] = user.get_full_name() or user.username
    return claims


class GroupsScope(ScopeClaims):
    info_groups = ("Groups", "The groups you belong to.")

    def scope_groups(self) -> dict[str, Any]:
        return {"groups": sorted(self.user.groups.values_list("name", flat=True))}
