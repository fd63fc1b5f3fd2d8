"""Reading and rendering plans: deep and wide trees without recursion, escaping, highlights, MySQL 8's text."""

from __future__ import annotations

import sys

from connections.engines.mysql.explain import lenient_json, tree_from_text
from connections.engines.plantree import count, finish, from_dict, plan_from_dict, plan_to_dict, to_dict, walk
from connections.engines.results import Plan, PlanNode
from explorer import plans


def chain(depth: int) -> PlanNode:
    root = node = PlanNode("Nested Loop", estimated_rows=1, actual_rows=1, loops=1, inclusive_ms=depth)
    for i in range(depth - 1):
        child = PlanNode(
            "Seq Scan" if i == depth - 2 else "Nested Loop", actual_rows=1, loops=1, inclusive_ms=depth - i - 1
        )
        node.children.append(child)
        node = child
    return root


def test_a_plan_far_deeper_than_the_recursion_limit_reads_saves_and_renders() -> None:
    depth = sys.getrecursionlimit() * 3
    plan = Plan(root=chain(depth), analyzed=True, raw="{}", total_ms=float(depth))
    copy = plan_from_dict(plan_to_dict(plan), plan.raw)
    assert count(copy.root) == depth
    view = plans.read(copy)
    html = str(plans.render(view))
    assert html.count('class="plan-node') == depth
    assert html.count("<ul") <= plans.MAX_NEST + 2  # nesting stops; deeper nodes follow flat with their depth
    assert f"(depth {depth - 1})" in html


def test_a_wide_plan_collapses_below_the_top_but_opens_the_way_to_the_hot_node() -> None:
    root = PlanNode("Append", inclusive_ms=100.0)
    for i in range(1500):
        agg = PlanNode("Aggregate", inclusive_ms=0.05 if i != 700 else 30.01)
        agg.children.append(PlanNode("Seq Scan", relation=f"t{i}", inclusive_ms=0.04 if i != 700 else 30.0))
        root.children.append(agg)
    finish(root)
    view = plans.read(Plan(root=root, analyzed=True, raw=""))
    assert view.node(view.hot).relation == "t700"
    html = str(plans.render(view))
    assert html.count("<details open>") < 10 and html.count("<details>") > 1000


def test_names_and_details_are_escaped() -> None:
    node = PlanNode("Seq Scan", relation="<script>alert(1)</script>", detail={"Filter": "(a = '<b>')"})
    html = str(plans.render(plans.read(Plan(root=node, analyzed=False, raw=""))))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_a_round_trip_keeps_every_figure() -> None:
    node = PlanNode("Index Scan", "t", "i", 10.0, 3.0, 2, 1.5, 0.5, {"shared hit": 4}, {"Index Cond": "(id = 1)"})
    again = from_dict(to_dict(node))
    assert again == node and again.misestimate == 10 / 3


def test_mysql_8_explain_analyze_text_becomes_a_tree() -> None:
    text = (
        "-> Limit: 10 row(s)  (cost=1.1 rows=10) (actual time=0.05..0.09 rows=10 loops=1)\n"
        "    -> Filter: (o.status = 'new')  (cost=1013 rows=1000) (actual time=0.04..0.08 rows=10 loops=1)\n"
        "        -> Table scan on o  (cost=1013 rows=10000) (actual time=0.03..12.5 rows=10000 loops=1)\n"
        "    -> Index lookup on c using PRIMARY (id=o.customer_id)  (cost=0.25 rows=1)"
        " (actual time=0.01..0.01 rows=1 loops=10)\n"
    )
    root = tree_from_text(text)
    assert root.operation == "Limit" and [c.operation for c in root.children] == [
        "Filter",
        "Index lookup on c using PRIMARY (id=o.customer_id)",
    ]
    scan = root.children[0].children[0]
    assert scan.relation == "o" and scan.actual_rows == 10000 and scan.inclusive_ms == 12.5
    lookup = root.children[1]
    assert lookup.index == "PRIMARY" and lookup.loops == 10 and abs(lookup.inclusive_ms - 0.1) < 1e-9
    assert [n.operation for n, _ in walk(root)][:3] == ["Limit", "Filter", "Table scan on o"]


def test_mariadb_json_with_unescaped_quotes_in_names_is_repaired() -> None:
    broken = '{\n  "table": {\n    "table_name": "a"b",\n    "attached_condition": "`a"b`.x = 1"\n  }\n}'
    assert lenient_json(broken)["table"]["table_name"] == 'a"b'


def test_past_the_drawing_cap_only_highlighted_nodes_are_drawn() -> None:
    root = PlanNode("Append", inclusive_ms=50.0)
    for i in range(5000):
        root.children.append(PlanNode("Seq Scan", relation=f"t{i}", inclusive_ms=40.0 if i == 4999 else 0.001))
    finish(root)
    view = plans.read(Plan(root=root, analyzed=True, raw=""))
    html = str(plans.render(view, most=100))
    assert html.count('class="plan-node') == 101 and "t4999" in html
    assert "4,900 more nodes are not drawn" in html
