"""Reading a normalized plan: shares of time, the hot node, the worst misestimate, big scans, hints, HTML.

The tree is rendered here in Python, iteratively: a 20,000-node plan renders in one pass
without template recursion, and deep plans nest at most MAX_NEST levels (deeper steps
are listed flat under the last level with their depth). Every value is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.utils.safestring import SafeString, mark_safe

from connections.engines.plantree import compared_columns, walk
from connections.engines.results import IndexSuggestion, Plan, PlanNode

SCANS = ("Seq Scan", "ALL (full table scan)", "Full scan", "COLLSCAN", "Table scan")
BIG_SCAN_ROWS = 1_000
MISESTIMATE_FACTOR = 10.0
OPEN_DEPTH = 6
MAX_NEST = 60
BIG_PLAN = 300
RENDER_NODES = 3_000  # drawn in full; past this only the highlighted nodes and their ancestors
QUIET = {"cost", "Parent Relationship", "Alias", "Schema"}  # kept in the saved plan, not shown per node
SHOWN_DETAIL = 300  # characters of one detail value in the tree; the raw plan has all


@dataclass
class Hint:
    text: str
    node: int | None = None  # the node it is about
    columns: tuple[str, ...] = ()
    relation: str = ""


@dataclass
class PlanView:
    plan: Plan
    nodes: list[tuple[PlanNode, int]]  # pre-order with depth
    total_ms: float | None
    hot: int | None = None
    worst: int | None = None
    big_scans: set[int] = field(default_factory=set)
    hints: list[Hint] = field(default_factory=list)
    open_path: set[int] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def root_cost(self) -> float | None:
        cost = self.plan.root.detail.get("cost")
        return float(cost) if isinstance(cost, int | float) else None

    def node(self, i: int | None) -> PlanNode | None:
        return self.nodes[i][0] if i is not None else None


def rows_read(node: PlanNode) -> float | None:
    """Rows a scan looked at: returned plus removed by its filter, or what the engine says it examined."""
    d = node.detail
    if node.actual_rows is not None:
        loops = node.loops or 1
        removed = float(d.get("Rows Removed by Filter") or 0)
        examined = d.get("docsExamined")
        if examined is not None:
            return float(examined)
        return (node.actual_rows + removed) * loops if removed else None
    return node.estimated_rows


def filter_columns(node: PlanNode) -> tuple[list[str], list[str]]:
    """(equality columns, range columns) named in a scan's filter."""
    if "equality columns" in node.detail or "range columns" in node.detail:  # SQLite: from the statement
        split = [str(node.detail.get(k) or "") for k in ("equality columns", "range columns")]
        return [c for c in split[0].split(", ") if c], [c for c in split[1].split(", ") if c]
    return compared_columns(str(node.detail.get("Filter") or node.detail.get("filter") or ""))


def read(plan: Plan) -> PlanView:
    nodes = list(walk(plan.root))
    root = plan.root
    total = plan.total_ms if plan.total_ms else root.inclusive_ms
    view = PlanView(plan=plan, nodes=nodes, total_ms=total)
    best_time, best_factor = -1.0, MISESTIMATE_FACTOR
    parents: dict[int, int] = {}
    ids = {id(node): i for i, (node, _) in enumerate(nodes)}
    for i, (node, _depth) in enumerate(nodes):
        for child in node.children:
            parents[ids[id(child)]] = i
        if node.exclusive_ms is not None and node.exclusive_ms > best_time:
            best_time, view.hot = node.exclusive_ms, i
        factor = node.misestimate
        if factor is not None and factor >= best_factor:
            best_factor, view.worst = factor, i
        if node.operation.startswith(SCANS) and (rows_read(node) or 0) >= BIG_SCAN_ROWS:
            view.big_scans.add(i)
    if view.hot is not None and best_time <= 0:
        view.hot = None
    for marked in (view.hot, view.worst, *view.big_scans):
        while marked is not None:
            view.open_path.add(marked)
            marked = parents.get(marked)
    view.hints = hints(view)
    return view


def _n(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.2f}"


def hints(view: PlanView) -> list[Hint]:
    found: list[Hint] = []
    for i in sorted(view.big_scans):
        node = view.nodes[i][0]
        equal, ranged = filter_columns(node)
        columns = tuple((equal + ranged)[:2])
        got = node.actual_rows * (node.loops or 1) if node.actual_rows is not None else node.estimated_rows
        if node.actual_rows is None and ("equality columns" in node.detail or "range columns" in node.detail):
            got = None  # SQLite's estimate is of rows read; it does not estimate rows returned
        examined = rows_read(node)
        verb = "reads" if view.plan.analyzed else "is estimated to read"
        where = f" on {node.relation}" if node.relation else ""
        if columns and (got is None or examined is None or got * 10 < examined):
            returns = f"to return {_n(got)}" if got is not None else f"filtering on {', '.join(columns)}"
            index = ", ".join(columns)
            text = f"{node.operation}{where} {verb} {_n(examined)} rows {returns}: an index on ({index}) would help."
            found.append(Hint(text, i, columns, node.relation))
        elif not columns:
            found.append(Hint(f"{node.operation}{where} {verb} {_n(examined)} rows with no filter to index.", i))
    worst = view.node(view.worst)
    if worst is not None and worst.misestimate:
        what = f" on {worst.relation}" if worst.relation else ""
        found.append(
            Hint(
                f"{worst.operation}{what} was estimated at {_n(worst.estimated_rows)} rows and returned "
                f"{_n(worst.actual_rows)} ({worst.misestimate:,.0f}× off): refresh the table's statistics "
                "(ANALYZE) or add extended statistics for correlated columns.",
                view.worst,
            )
        )
    for i, (node, _) in enumerate(view.nodes):
        if "external" in str(node.detail.get("Sort Method", "")).lower():
            found.append(Hint("A sort spilled to disk: a larger work_mem for this query would keep it in memory.", i))
            break
    return found


def advice_url(pk: int, plan: Any) -> str:
    """The what-if check for a saved plan's statement (by the plan's token: statements can be long)."""
    from django.urls import reverse

    return reverse("explorer:index_advice", args=[pk]) + "?" + urlencode({"plan": str(plan)})


def _figures(view: PlanView, node: PlanNode) -> list[str]:
    parts = []
    est, act = node.estimated_rows, node.actual_rows
    if act is not None:
        rows = f"rows {_n(est)} est · {_n(act)} actual"
        factor = node.misestimate
        if factor is not None and factor >= 2:
            rows += f' <span class="misestimate">{factor:,.0f}×</span>'
        parts.append(rows)
    elif est is not None:
        parts.append(f"rows {_n(est)} est")
    if node.loops is not None and node.loops != 1:
        parts.append(f"loops {node.loops:,}")
    if node.exclusive_ms is not None:
        share = ""
        if view.total_ms:
            fraction = min(1.0, (node.exclusive_ms or 0) / view.total_ms)
            share = f' · <meter min="0" max="1" value="{fraction:.3f}"></meter> {fraction:.0%}'
        parts.append(f"self {node.exclusive_ms:,.2f} ms · total {node.inclusive_ms or 0:,.2f} ms{share}")
    if isinstance(node.detail.get("cost"), int | float):
        parts.append(f"cost {node.detail['cost']:,.2f}")
    return parts


def _node_html(view: PlanView, i: int, node: PlanNode, depth: int, shown_depth: int) -> str:
    classes = ["plan-node"]
    badges = []
    if i == view.hot:
        classes.append("hot")
        badges.append('<span class="badge hot">slowest</span>')
    if i == view.worst:
        classes.append("worst")
        badges.append('<span class="badge worst">worst estimate</span>')
    if i in view.big_scans:
        classes.append("big-scan")
        badges.append('<span class="badge big-scan">large scan</span>')
    head = [f'<span class="op">{escape(node.operation)}</span>']
    if node.relation:
        head.append(f' on <span class="rel">{escape(node.relation)}</span>')
    if node.index:
        head.append(f' using <span class="idx">{escape(node.index)}</span>')
    if depth != shown_depth:
        head.append(f' <span class="muted small">(depth {depth})</span>')
    figures = " · ".join(_figures(view, node))  # built from numbers and fixed markup only
    rows = [
        f"<dt>{escape(str(k))}</dt><dd>{escape(_cut(v))}</dd>"
        for k, v in node.detail.items()
        if k not in QUIET and v not in (None, "")
    ]
    rows += [f"<dt>buffers {escape(k)}</dt><dd>{v:,}</dd>" for k, v in node.buffers.items()]
    marked = len(classes) > 1
    body = (
        f'<details class="node-detail"{" open" if marked else ""}><summary>details</summary>'
        f'<dl class="plan-detail">{"".join(rows)}</dl></details>'
        if rows
        else ""
    )
    summary = f'{"".join(head)} {"".join(badges)} <span class="figures">{figures}</span>'
    return f'<li class="{" ".join(classes)}" id="node-{i}" data-node="{i}">', summary, body


def _cut(value: Any) -> str:
    text = str(value)
    return text if len(text) <= SHOWN_DETAIL else text[:SHOWN_DETAIL] + "…"


def render(view: PlanView, most: int = RENDER_NODES) -> SafeString:
    """The plan as nested lists; subtrees open near the top and on the way to highlighted nodes.

    Past `most` nodes only highlighted nodes and their ancestors are drawn; the raw plan has the rest.
    """
    out: list[str] = ['<ul class="plan-tree">']
    many = view.size > BIG_PLAN
    stack: list[Any] = [("node", 0, view.nodes[0][0], 0, 0)]
    index = {id(node): i for i, (node, _) in enumerate(view.nodes)}
    drawn = skipped = 0
    while stack:
        item = stack.pop()
        if item[0] == "close":
            out.append(item[1])
            continue
        _, i, node, depth, shown = item
        if drawn >= most and i not in view.open_path:
            skipped += 1
            continue
        drawn += 1
        li, summary, body = _node_html(view, i, node, depth, shown)
        out.append(li)
        if not node.children:
            out.append(f'<div class="plan-leaf">{summary}{body}</div></li>')
            continue
        opened = i in view.open_path or (depth < OPEN_DEPTH and not many) or depth == 0
        out.append(f"<details{' open' if opened else ''}><summary>{summary}</summary>{body}")
        nest = shown < MAX_NEST
        if nest:
            out.append('<ul class="plan-children">')
            stack.append(("close", "</ul></details></li>"))
        else:  # past MAX_NEST levels the children follow as siblings, labelled with their depth
            out.append("</details></li>")
        child_shown = shown + 1 if nest else shown
        for child in reversed(node.children):
            stack.append(("node", index[id(child)], child, depth + 1, child_shown))
    out.append("</ul>")
    if skipped:
        out.append(f'<p class="notice">{view.size - drawn:,} more nodes are not drawn; the raw plan has them all.</p>')
    return mark_safe("".join(out))  # noqa: S308  every value above went through html.escape


@dataclass(frozen=True)
class Delta:
    label: str
    before: str
    after: str
    change: str  # "−93%", "", ...
    better: bool | None = None


def _change(before: float | None, after: float | None) -> tuple[str, bool | None]:
    if before is None or after is None or before == 0:
        return "", None
    ratio = (after - before) / before
    return f"{ratio:+.0%}", after < before if after != before else None


def compare(a: PlanView, b: PlanView) -> list[Delta]:
    """The figures that say whether the second plan is better: time, cost, scans, estimate quality."""
    scans_a, scans_b = len(a.big_scans), len(b.big_scans)
    rows = [
        ("Total time (ms)", a.total_ms, b.total_ms),
        ("Planner cost", a.root_cost, b.root_cost),
        ("Nodes", float(a.size), float(b.size)),
        ("Large scans", float(scans_a), float(scans_b)),
    ]
    found = []
    for label, x, y in rows:
        change, better = _change(x, y)
        found.append(Delta(label, _n(x) if x is not None else "—", _n(y) if y is not None else "—", change, better))
    return found


GOOD_CUT = 0.5


def recommended(suggestion: IndexSuggestion) -> bool:
    """Measured advice counts when it at least halves the planner's cost."""
    if suggestion.method != "hypothetical" or not suggestion.cost_before or suggestion.cost_after is None:
        return False
    return suggestion.cost_after <= suggestion.cost_before * GOOD_CUT
