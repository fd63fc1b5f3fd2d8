from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

from django import template
from django.utils.safestring import mark_safe

from config.links import reverse_once
from explorer import params
from explorer.cells import Cell, cell

register = template.Library()


@register.simple_tag(takes_context=True)
def crumbs(context: Any) -> str:
    """Where a page is: the connection, its engine, the schema or bucket, the table or collection.

    Built in Python (every explorer page shows it; as an included template it cost a fifth of a
    millisecond): each name and URL goes through html.escape(quote=True).
    """
    connection = context["connection"]
    ns, obj = context.get("ns"), context.get("obj")
    browse = reverse_once("explorer:browse", connection.pk)
    out = [
        '<nav class="crumbs" aria-label="Location">\n  ',
        f'<a href="{escape(reverse_once("connections:detail", connection.pk))}">{escape(connection.name)}</a>',
        ' <span class="badge prod">production</span>' if connection.production else "",
        f'\n  › <a href="{escape(browse)}">{escape(connection.get_engine_display())}</a>\n',
    ]
    if ns is not None and ns != "":
        out.append(f'  › <a href="{escape(browse + params.table_query(ns, None))}">{escape(str(ns))}</a>\n')
    if obj:
        out.append(f'  › <a href="{escape(browse + params.table_query(ns, obj))}">{escape(str(obj))}</a>\n')
    out.append("</nav>")
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values only


@register.simple_tag
def page_size_select(sizes: Any, current: Any) -> str:
    """The rows-per-page choice of a grid form."""
    options = "".join(f'<option value="{int(n)}"{_selected(n == current)}>{int(n)}</option>' for n in sizes)
    return mark_safe(  # noqa: S308 - integers and literals only
        f'<label class="small">Rows per page <select name="limit">{options}</select></label>'
    )


@register.simple_tag
def explorer_url(view: str, pk: int, **query: Any) -> str:
    """An explorer page's URL, its query string built by QueryDict: {% explorer_url 'explorer:key' pk ns=ns key=k %}."""
    return params.link(view, pk, **query)


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
            return f"{n / div:.1f}{suffix}"
    return f"{n:,}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


def _cell_html(value: Any) -> str:
    c = cell(value)
    if c.cut:
        size = c.length if isinstance(c.length, int) else "?"
        return (
            f'<td class="{c.css}" title="cut: {size} bytes in full">{escape(c.text)}<span class="cutmark">…</span></td>'
        )
    return f'<td class="{c.css}">{escape(c.text)}</td>'


def _text_html(value: str) -> str:
    if value and value.isprintable():
        return f'<td class="v-text">{escape(value)}</td>'
    return _cell_html(value)


def _number_html(value: Any) -> str:
    return f'<td class="v-number">{value}</td>'  # digits, sign, point, exponent, inf, nan: nothing to escape


def _datetime_html(value: dt.datetime) -> str:
    return f'<td class="v-date">{value.isoformat(sep=" ")}</td>'  # digits and -:+. only


def _date_html(value: dt.date | dt.time) -> str:
    return f'<td class="v-date">{value.isoformat()}</td>'


# Most cells are text, numbers, dates or NULL: written by exact type, the same markup `cell()` gives them.
_BY_TYPE: dict[type, Any] = {
    str: _text_html,
    int: _number_html,
    float: _number_html,
    Decimal: _number_html,
    dt.datetime: _datetime_html,
    dt.date: _date_html,
    dt.time: _date_html,
    type(None): lambda value: '<td class="v-null">NULL</td>',
}


def _cells_html(values: Any) -> str:
    by_type = _BY_TYPE
    return "".join((by_type.get(type(value)) or _cell_html)(value) for value in values)


def _selected(flag: bool) -> str:
    return " selected" if flag else ""


@register.simple_tag
def grid_head(columns: Any, sort_urls: dict[str, str], sort: str | None, descending: bool) -> str:
    """The grid's header cells; each sorts by its column, as a plain link and in place with htmx.

    Built in Python like grid_rows (the template engine costs a millisecond per page here);
    every name and URL goes through html.escape(quote=True).
    """
    out = ["<th></th>"]
    for name in columns:
        url = sort_urls.get(name) or ""
        href = escape(url or "#")
        hx = f' hx-get="{escape(url)}"' if url else ""
        arrow = (" ▼" if descending else " ▲") if sort == name else ""
        label = escape(str(name))
        out.append(f'<th><a href="{href}"{hx} title="Sort by {label}">{label}{arrow}</a></th>')
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values only


@register.simple_tag
def filter_rows(filters: Any, columns: Any, ops: dict[str, str]) -> str:
    """One row of column / operator / value per filter, and an empty one to add another."""
    out = []
    for f in filters:
        options = "".join(
            f'<option value="{escape(c.name)}"{_selected(bool(f) and f.column == c.name)}>{escape(c.name)}</option>'
            for c in columns
        )
        op_options = "".join(
            f'<option value="{escape(op)}"{_selected(bool(f) and f.op == op)}>{escape(label)}</option>'
            for op, label in ops.items()
        )
        value = escape(str(f.value)) if f else ""
        out.append(
            '<div class="filter-row">'
            f'<select name="fc" aria-label="Column"><option value="">column…</option>{options}</select>'
            f'<select name="fo" aria-label="Operator">{op_options}</select>'
            f'<input name="fv" value="{value}" aria-label="Value" placeholder="value">'
            "</div>"
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values only


@register.simple_tag
def column_picker(columns: Any, shown: Any) -> str:
    """The checkboxes that choose which columns the grid shows."""
    visible = set(shown)
    return mark_safe(  # noqa: S308 - built from escaped values only
        "".join(
            f'<label class="colpick"><input type="checkbox" name="col" value="{escape(c.name)}"'
            f"{' checked' if c.name in visible else ''}> {escape(c.name)}</label>"
            for c in columns
        )
    )


@register.simple_tag
def grid_rows(rows: Any, record_base: str) -> str:
    """The grid's <tr>s, built in Python: the template engine is slow at 100 x N cells.

    Every value and URL is escaped with html.escape(quote=True) before the result is
    marked safe; the only unescaped parts are this function's own literals. `record_base`
    is the row page's URL ending in "key=" (built by QueryDict); a row's key token is
    URL-safe base64, so it is appended as it is.
    """
    base = escape(record_base)
    out = []
    for row in rows:
        link = f'<a href="{base}{escape(row["key"])}" title="Open">›</a>' if row["key"] else ""
        out.append(f'<tr><td class="rowlink">{link}</td>{_cells_html(row["cells"])}</tr>')
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values only


def _attr(value: Any) -> str:
    """A value as Django's `{{ value }}` writes it into an attribute or text: str(), then escaped."""
    return escape(str(value))


def _estimate(info: Any) -> str:
    return f"≈ {_attr(approx(info.estimated_rows))} rows (estimate)" if info.estimated_rows is not None else ""


def _grid_actions(c: Any) -> str:
    count_url = _attr(c["count_url"])
    out = [
        # The estimate; Count exactly swaps the template's #exact-count partial in here.
        f'<span class="muted" id="exact-count">{_estimate(c["info"])}</span>',
        f'<a class="button small" href="{count_url}" hx-get="{count_url}" hx-target="#exact-count"'
        ' hx-disabled-elt="this">Count exactly</a>',
        f'<a class="button small" href="{_attr(c["export_url"])}">Export…</a>',
    ]
    if c.get("indexes_url"):
        out.append(f'<a class="button small" href="{_attr(c["indexes_url"])}">Indexes</a>')
    if c.get("partitions_url"):
        out.append(f'<a class="button small" href="{_attr(c["partitions_url"])}">Partitions</a>')
    if c.get("can_write"):
        noun = "document" if c.get("documents") else "row"
        out.append(f'<a class="button small primary" href="{_attr(c["new_url"])}">Add {noun}</a>')
    return "\n      ".join(out)


def _grid_filters(c: Any) -> str:
    preq = c["preq"]
    hidden = (
        f'<input type="hidden" name="ns" value="{_attr(c["ns"])}">'
        f'<input type="hidden" name="obj" value="{_attr(c["obj"])}">'
    )
    size = page_size_select(c["page_sizes"], preq.limit)
    if c.get("documents"):
        return (
            f'<form method="get" class="filters mongo">{hidden}'
            f'<label>Filter <input name="q" value="{_attr(preq.query)}" placeholder=\'{{"status": "paid"}}\''
            ' class="mono"></label>'
            f'<label>Projection <input name="proj" value="{_attr(preq.projection)}" placeholder=\'{{"name": 1}}\''
            ' class="mono"></label>'
            f'<label>Sort <input name="msort" value="{_attr(preq.sort_json)}" placeholder=\'{{"created": -1}}\''
            ' class="mono"></label>'
            f'{size}<button type="submit">Apply</button></form>'
        )
    sort = ""
    if preq.sort:
        sort = f'<input type="hidden" name="sort" value="{_attr(preq.sort)}">'
        if preq.descending:
            sort += '<input type="hidden" name="desc" value="1">'
    columns = c["all_columns"]
    return (
        f'<form method="get" class="filters" id="filters">{hidden}{sort}'
        f"{filter_rows(c['filters'], columns, c['ops'])}"
        f'<details class="columns"><summary>Columns ({len(c["shown_columns"])}/{len(columns)})</summary>'
        f"{column_picker(columns, c['shown_columns'])}</details>"
        f'{size}<button type="submit" class="primary">Apply</button> <a href="{_attr(c["reset_url"])}">Reset</a></form>'
    )


def _pager(c: Any) -> str:
    out = []
    for key, rel, label in (
        ("first_url", "", "« First"),
        ("prev_url", "prev", "‹ Previous"),
        ("next_url", "next", "Next ›"),
    ):
        if url := c.get(key):
            url = _attr(url)
            rel_attr = f' rel="{rel}"' if rel else ""
            out.append(f'<a class="button small" href="{url}"{rel_attr} hx-get="{url}">{label}</a>')
    info = c["info"]
    key = ", ".join(escape(str(k)) for k in info.key) or "none"
    out.append(
        f'<span class="muted small">{len(c["rows"])} rows on this page · key: {key} ({_attr(info.key_kind)})</span>'
    )
    return "\n    ".join(out)


@register.simple_tag(takes_context=True)
def grid_card(context: Any) -> str:
    """The whole grid card (head, actions, filters, table, pager), built in Python like its rows.

    The template engine cost about 0.3 ms per page for this card's fifty-odd tags; every
    value and URL here goes through html.escape(quote=True) (`_attr`) or a builder above
    that does, before the result is marked safe.
    """
    c = context.flatten()
    info, page, preq = c["info"], c["page"], c["preq"]
    notice = f'<p class="notice">{_attr(page.notice)}</p>' if page.notice else ""
    if c["rows"]:
        body = grid_rows(c["rows"], c["record_base"])
    else:
        matching = " match these filters" if preq.filters or preq.query else ""
        body = f'<tr><td colspan="{len(page.columns) + 1}" class="muted">No rows{matching}.</td></tr>'
    head = grid_head(page.columns, c["sort_urls"], preq.sort, preq.descending)
    return mark_safe(  # noqa: S308 - built from escaped values only
        '<section class="card" id="grid">\n  <div class="pagehead">\n'
        f'    <h2>{_attr(info.name)} <span class="muted small">{_attr(info.kind)}</span></h2>\n'
        f'    <div class="actions">\n      {_grid_actions(c)}\n    </div>\n  </div>\n'
        f"  {notice}{_grid_filters(c)}\n"
        '  <div class="gridwrap">\n  <table class="grid data">\n'
        f'    <thead hx-target="#grid" hx-swap="outerHTML" hx-push-url="true"><tr>{head}</tr></thead>\n'
        f"    <tbody>{body}</tbody>\n  </table>\n  </div>\n"
        '  <nav class="pager" hx-target="#grid" hx-swap="outerHTML show:window:top" hx-push-url="true">\n    '
        f"{_pager(c)}\n  </nav>\n</section>"
    )
