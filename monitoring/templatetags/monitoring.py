"""The slow-query table body, built in Python: fifty rows of ten cells cost more through the template engine
than the query behind them."""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from monitoring.models import OTHER

register = template.Library()


def _ms(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f} ms"


@register.simple_tag
def statement_rows(statements: Any, connection_id: int, range_query: str) -> str:
    """Every text and URL goes through html.escape(quote=True) before the result is marked safe."""
    base = reverse("monitoring:query", args=[connection_id, 0]).removesuffix("0/")
    out = []
    for r in statements:
        fp = r.fingerprint
        href = escape(f"{base}{fp.pk}/?{range_query}")
        if fp.key == OTHER:
            label = "<em>everything else</em>"
        else:
            text = fp.text or fp.key
            label = escape(text if len(text) <= 160 else text[:159] + "…")
        database = f' <span class="muted">{escape(fp.database)}</span>' if fp.database else ""
        out.append(
            f'<tr><td class="mono"><a href="{href}">{label}</a>{database}</td>'
            f'<td class="num">{_ms(r.total_ms)}</td><td class="num">{_ms(r.mean_ms, 3)}</td>'
            f'<td class="num">{r.calls:,}</td><td class="num">{r.rows:,}</td><td class="num">{_ms(r.max_ms)}</td>'
            f'<td class="num">{r.share:.1f} %</td>'
            '<td><svg class="spark" viewBox="0 0 100 20" width="100" height="20" role="img"'
            ' aria-label="total time over the range">'
            f'<polyline points="{escape(r.spark_points)}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
            "</svg></td></tr>"
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values only
