from __future__ import annotations

from typing import Any

from django import template

from explorer.cells import Cell, cell

register = template.Library()


@register.filter
def as_cell(value: Any) -> Cell:
    return cell(value)


@register.filter
def as_pretty_cell(value: Any) -> Cell:
    return cell(value, pretty=True, hex_bytes=4096)


@register.filter
def filesize(value: Any) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(value)


@register.filter
def approx(value: Any) -> str:
    if value is None:
        return "—"
    n = int(value)
    if n < 10_000:
        return f"{n:,}"
    for div, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= div:
            return f"≈{n / div:.1f}{suffix}"
    return f"{n:,}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
