"""Grants follow memberships: leaving a team, by any path, drops the grants on that team's connections.

Otherwise an old grant would come back to life if the person rejoined the team.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import Membership
from connections.models import ConnectionGrant


@receiver(post_delete, sender=Membership, dispatch_uid="connections.drop_grants_with_membership")
def drop_grants_with_membership(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    ConnectionGrant.objects.filter(user_id=instance.user_id, connection__team_id=instance.team_id).delete()
