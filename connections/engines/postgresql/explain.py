"""PostgreSQL's EXPLAIN (FORMAT JSON, BUFFERS, SETTINGS), optionally ANALYZE, always rolled back."""

from __future__ import annotations

import json
from typing import Any

from connections.engines.capabilities import Explain
from connections.engines.plantree import MAX_NODES, finish, number, one_statement, walk
from connections.engines.results import Plan, PlanNode
from connections.engines.sqlbase import TAG

BUFFER_KEYS = {
    "Shared Hit Blocks": "shared hit",
    "Shared Read Blocks": "shared read",
    "Shared Dirtied Blocks": "shared dirtied",
    "Shared Written Blocks": "shared written",
    "Local Hit Blocks": "local hit",
    "Local Read Blocks": "local read",
    "Temp Read Blocks": "temp read",
    "Temp Written Blocks": "temp written",
}
DETAIL_KEYS = (
    "Filter",
    "Rows Removed by Filter",
    "Index Cond",
    "Rows Removed by Index Recheck",
    "Recheck Cond",
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Rows Removed by Join Filter",
    "Join Type",
    "Sort Key",
    "Sort Method",
    "Group Key",
    "Strategy",
    "Parent Relationship",
    "Subplan Name",
    "CTE Name",
    "Alias",
    "Schema",
    "Operation",
    "Heap Fetches",
    "Workers Planned",
    "Workers Launched",
    "Output",
)


def node_from_json(data: dict[str, Any], analyzed: bool, processes: int = 1) -> PlanNode:
    """One node; `processes` > 1 under a Gather, whose workers' loops run side by side, not one after another."""
    loops = int(data["Actual Loops"]) if "Actual Loops" in data else None
    inclusive = None
    if analyzed and "Actual Total Time" in data:
        inclusive = float(data["Actual Total Time"]) * max((loops or 1) / processes, 1)
    detail: dict[str, Any] = {k: data[k] for k in DETAIL_KEYS if k in data}
    for k in ("Sort Key", "Group Key", "Output"):
        if isinstance(detail.get(k), list):
            detail[k] = ", ".join(map(str, detail[k]))
    detail["cost"] = number(data.get("Total Cost"))
    operation = str(data.get("Node Type", "?"))
    if data.get("Join Type") and "Join" in operation or operation == "Nested Loop":
        operation = f"{operation} ({data.get('Join Type', 'Inner')})" if data.get("Join Type") else operation
    return PlanNode(
        operation=operation,
        relation=str(data.get("Relation Name") or data.get("CTE Name") or data.get("Function Name") or ""),
        index=str(data.get("Index Name") or ""),
        estimated_rows=number(data.get("Plan Rows")),
        actual_rows=number(data.get("Actual Rows")) if analyzed else None,
        loops=loops,
        inclusive_ms=inclusive,
        buffers={name: int(data[key]) for key, name in BUFFER_KEYS.items() if data.get(key)},
        detail=detail,
    )


def tree_from_json(top: dict[str, Any], analyzed: bool) -> tuple[PlanNode, list[str]]:
    """The normalized tree from one JSON plan, built with a stack (plans can be very deep)."""
    notices: list[str] = []
    root = node_from_json(top, analyzed)
    stack = [(top, root, 1)]
    made = 1
    while stack:
        data, node, processes = stack.pop()
        if data.get("Node Type", "").startswith("Gather"):
            processes = int(data.get("Workers Launched") or data.get("Workers Planned") or 0) + 1
        for kid in data.get("Plans") or []:
            if made >= MAX_NODES:
                notices.append(f"The plan has more than {MAX_NODES:,} nodes; the rest are not shown.")
                stack.clear()
                break
            child = node_from_json(kid, analyzed, processes)
            node.children.append(child)
            stack.append((kid, child, processes))
            made += 1
    return root, notices


def writes(root: PlanNode) -> bool:
    return any(node.operation.startswith("ModifyTable") for node, _ in walk(root))


class PostgreSQLExplain(Explain):
    can_analyze = True
    example = "SELECT * FROM orders WHERE status = 'new' ORDER BY created_at DESC LIMIT 20"  # the form's placeholder

    def run(self, statement: str, *, analyze: bool = False, verbose: bool = False) -> tuple[dict[str, Any], str]:
        """The server's JSON plan document and its text; the transaction is always rolled back."""
        statement = one_statement(statement)
        options = ["ANALYZE"] if analyze else []
        options += ["VERBOSE"] if verbose else []
        options += ["FORMAT JSON", "BUFFERS", "SETTINGS"]
        adapter = self.adapter
        conn = adapter._conn()
        try:
            with adapter._driver_errors(rollback=True), conn.cursor() as cur:
                # No parameters: a '%' in the statement must reach the server as it is.
                cur.execute(TAG + f"EXPLAIN ({', '.join(options)}) " + statement)
                document = cur.fetchone()[0]
        finally:
            adapter._rollback()  # ANALYZE ran the statement: whatever it wrote is undone
        if isinstance(document, str):
            document = json.loads(document)
        top = document[0] if isinstance(document, list) else document
        return top, json.dumps(document, indent=2)

    def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        top, raw = self.run(statement, analyze=analyze)
        root, notices = tree_from_json(top["Plan"], analyze)
        finish(root)
        total = number(top.get("Execution Time")) if analyze else None
        if top.get("Settings"):
            changed = ", ".join(f"{k} = {v}" for k, v in top["Settings"].items())
            notices.append(f"Planner settings that differ from the defaults: {changed}.")
        if analyze and top.get("Planning Time") is not None:
            notices.append(f"Planning took {float(top['Planning Time']):.3f} ms.")
        return Plan(root=root, analyzed=analyze, raw=raw, total_ms=total, rolled_back=analyze, notices=notices)

    def cost(self, statement: str) -> float:
        top, _ = self.run(statement)
        return float(top["Plan"]["Total Cost"])
