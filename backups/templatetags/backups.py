"""`{% backup_badge connection %}` on the connection list and page."""

from __future__ import annotations

from typing import Any

from django import template

from backups.badge import badges_for

register = template.Library()


@register.inclusion_tag("backups/_badge.html", takes_context=True)
def backup_badge(context: Any, connection: Any) -> dict[str, Any]:
    # One lookup for every connection on the page, kept on the render context.
    cache = context.render_context.get("backup_badges")
    if cache is None:
        groups = context.get("groups") or []  # the connection list's (team, [(connection, role)])
        ids = [c.pk for _, rows in groups for c, _ in rows] or [connection.pk]
        found = badges_for(ids)
        # Connections without a badge are remembered too, so none of them asks again.
        cache = context.render_context["backup_badges"] = {pk: found.get(pk) for pk in ids}
    if connection.pk not in cache:
        cache[connection.pk] = badges_for([connection.pk]).get(connection.pk)
    return {"badge": cache.get(connection.pk), "connection": connection}
