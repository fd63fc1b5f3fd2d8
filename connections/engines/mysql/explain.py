"""MySQL / MariaDB plans: EXPLAIN FORMAT=JSON; ANALYZE FORMAT=JSON (MariaDB) or EXPLAIN ANALYZE (MySQL 8).

The flavour comes from the server's version string, read when the session opened.
ANALYZE runs the statement inside the session's transaction, which is then rolled back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from connections.engines.base import EngineError
from connections.engines.capabilities import Explain
from connections.engines.plantree import MAX_NODES, finish, number, one_statement
from connections.engines.results import Plan, PlanNode
from connections.engines.sqlbase import TAG

# JSON keys that hold plan steps rather than figures.
CONTAINERS = {
    "query_block",
    "nested_loop",
    "table",
    "filesort",
    "temporary_table",
    "union_result",
    "query_specifications",
    "subqueries",
    "materialized",
    "block-nl-join",
    "duplicates_removal",
    "read_sorted_file",
    "ordering_operation",
    "grouping_operation",
    "window_functions_computation",
    "attached_subqueries",
    "having_subqueries",
    "order_by_subqueries",
    "group_by_subqueries",
    "buffer",
    "query_optimization",
}
WORDS = {"ALL": "full table scan", "index": "full index scan", "range": "index range scan", "ref": "index lookup"}


def _table_node(data: dict[str, Any], analyzed: bool) -> PlanNode:
    access = str(data.get("access_type", ""))
    loops = number(data.get("r_loops"))
    per_loop = number(data.get("r_total_time_ms"))
    detail = {
        k: data[k]
        for k in ("access_type", "possible_keys", "key_length", "used_key_parts", "ref", "filtered", "r_filtered")
        if k in data
    }
    if "attached_condition" in data:
        detail["Filter"] = data["attached_condition"]
    if isinstance(detail.get("possible_keys"), list):
        detail["possible_keys"] = ", ".join(detail["possible_keys"])
    if isinstance(detail.get("used_key_parts"), list):
        detail["used_key_parts"] = ", ".join(detail["used_key_parts"])
    detail["cost"] = number((data.get("cost_info") or {}).get("prefix_cost") or data.get("cost"))
    rows = number(data.get("rows") or data.get("rows_examined_per_scan"))
    return PlanNode(
        operation=f"{access} ({WORDS[access]})" if access in WORDS else access or "table",
        relation=str(data.get("table_name", "")),
        index=str(data.get("key") or ""),
        estimated_rows=rows,
        actual_rows=number(data.get("r_rows")) if analyzed else None,
        loops=int(loops) if loops is not None else None,
        inclusive_ms=per_loop if analyzed else None,
        detail=detail,
    )


def tree_from_json(document: dict[str, Any], analyzed: bool) -> tuple[PlanNode, list[str]]:
    """MySQL's and MariaDB's nested JSON as one tree: containers become steps, tables become scans."""
    root = PlanNode(operation="query", detail={})
    notices: list[str] = []
    # One entry per JSON object, pushed in reverse so children keep the server's order.
    stack: list[tuple[str, Any, PlanNode]] = [("query_block", document.get("query_block", document), root)]
    made = 0
    while stack:
        key, item, parent = stack.pop()
        if isinstance(item, list):
            stack.extend((key, entry, parent) for entry in reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        if key in ("nested_loop", "query_specifications", "subqueries", "attached_subqueries") and len(item) == 1:
            ((inner_key, inner),) = item.items()  # a list entry wrapping one step: the step is the node
            stack.append((inner_key, inner, parent))
            continue
        if made >= MAX_NODES:
            notices.append(f"The plan has more than {MAX_NODES:,} nodes; the rest are not shown.")
            break
        made += 1
        if key == "table" or "table_name" in item:
            node = _table_node(item, analyzed)
        else:
            figures = {k: v for k, v in item.items() if not isinstance(v, dict | list)}
            cost = number((item.get("cost_info") or {}).get("query_cost") or item.get("cost"))
            node = PlanNode(
                operation=key.replace("_", " "),
                inclusive_ms=number(item.get("r_total_time_ms")) if analyzed else None,
                detail={"cost": cost} | {k: v for k, v in figures.items() if k not in ("r_total_time_ms", "cost")},
            )
        parent.children.append(node)
        for k, v in reversed(list(item.items())):
            if k in CONTAINERS and isinstance(v, dict | list):
                stack.append((k, v, node))
    top = root.children[0] if len(root.children) == 1 else root
    return top, notices


LINE = re.compile(
    r"^(?P<indent>\s*)-> (?P<op>.*?)(?:\s+\(cost=(?P<cost>[\d.e+]+)\s+rows=(?P<est>[\d.e+]+)\))?"
    r"(?:\s+\(actual time=[\d.e+]+\.\.(?P<time>[\d.e+]+) rows=(?P<rows>[\d.e+]+) loops=(?P<loops>\d+)\))?\s*$"
)
TABLE = re.compile(r" on (?P<table>`?[\w$]+`?)(?: using (?P<index>`?[\w$]+`?))?")


def tree_from_text(text: str) -> PlanNode:
    """MySQL 8's EXPLAIN ANALYZE tree ("-> Filter: ... (actual time=..)") by its indentation."""
    root = PlanNode(operation="query")
    parents: list[tuple[int, PlanNode]] = [(-1, root)]
    for line in text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        depth = len(match["indent"])
        loops = int(match["loops"]) if match["loops"] else None
        where = TABLE.search(match["op"])
        node = PlanNode(
            operation=match["op"].split(":")[0],
            relation=where["table"].strip("`") if where else "",
            index=(where["index"] or "").strip("`") if where else "",
            estimated_rows=number(match["est"]),
            actual_rows=number(match["rows"]),
            loops=loops,
            inclusive_ms=(number(match["time"]) or 0) * (loops or 1) if match["time"] else None,
            detail={"Filter": match["op"].split(":", 1)[1].strip()} if ":" in match["op"] else {},
        )
        while parents[-1][0] >= depth:
            parents.pop()
        parents[-1][1].children.append(node)
        parents.append((depth, node))
    return root.children[0] if len(root.children) == 1 else root


KEY_VALUE = re.compile(r'^(?P<head>\s*"[\w\-]+":\s*")(?P<body>.*)(?P<tail>"\s*,?\s*)$')
ITEM = re.compile(r'^(?P<head>\s*")(?P<body>.*)(?P<tail>"\s*,?\s*)$')


def lenient_json(text: str) -> Any:
    """The plan document; MariaDB writes identifiers holding '"' unescaped, so such lines are repaired."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = []
    for line in text.splitlines():
        match = KEY_VALUE.match(line) or ITEM.match(line)
        if match:
            body = re.sub(r'(?<!\\)"', '\\"', match["body"])
            line = match["head"] + body + match["tail"]
        lines.append(line)
    try:
        return json.loads("\n".join(lines))
    except ValueError:
        raise EngineError("The server's plan is not valid JSON; the raw text is below.", kind="config") from None


class MySQLExplain(Explain):
    can_analyze = True
    example = "SELECT * FROM orders WHERE status = 'new' ORDER BY created_at DESC LIMIT 20"  # the form's placeholder

    def _fetch(self, sql: str) -> Any:
        conn = self.adapter._conn()
        try:
            with self.adapter._driver_errors(rollback=True), conn.cursor() as cur:
                cur.execute(TAG + sql)  # no parameters: a '%' in the statement reaches the server as it is
                return cur.fetchone()[0]
        finally:
            self.adapter._rollback()  # ANALYZE ran the statement: whatever it wrote is undone

    def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        statement = one_statement(statement)
        self.adapter._conn()  # reads the version: MariaDB or MySQL
        if analyze and not self.adapter.is_mariadb:
            text = str(self._fetch("EXPLAIN ANALYZE " + statement))
            root = tree_from_text(text)
            finish(root)
            return Plan(root=root, analyzed=True, raw=text, total_ms=root.inclusive_ms, rolled_back=True)
        verb = "ANALYZE FORMAT=JSON " if analyze else "EXPLAIN FORMAT=JSON "
        raw = str(self._fetch(verb + statement))
        document = lenient_json(raw)
        root, notices = tree_from_json(document, analyze)
        finish(root)
        total = number((document.get("query_block") or {}).get("r_total_time_ms")) if analyze else None
        if not analyze:
            notices.append("Estimates only: ANALYZE adds actual rows and times.")
        return Plan(
            root=root,
            analyzed=analyze,
            raw=json.dumps(document, indent=2),
            total_ms=total,
            rolled_back=analyze,
            notices=notices,
        )
