"""SQLite's EXPLAIN QUERY PLAN as a tree; SQLite has no actual row counts, so no ANALYZE."""

from __future__ import annotations

import re

from connections.engines.capabilities import Explain
from connections.engines.plantree import MAX_NODES, one_statement
from connections.engines.results import Plan, PlanNode

# "SCAN t", "SEARCH t USING INDEX i (a=?)", "SCAN t USING COVERING INDEX i", "SEARCH t USING INTEGER PRIMARY KEY"
STEP = re.compile(
    r"^(?P<verb>SCAN|SEARCH)(?: TABLE)? (?P<table>.+?)(?: AS (?P<alias>.+?))?"
    r"(?: USING (?:(?:AUTOMATIC )?(?:PARTIAL )?COVERING )?INDEX (?P<index>.+?)| USING (?P<pk>INTEGER PRIMARY KEY))?"
    r"(?P<cond> \(.*\))?$"
)


def node_from_detail(detail: str) -> PlanNode:
    match = STEP.match(detail)
    if not match:
        return PlanNode(operation=detail, detail={"detail": detail})
    table = match["table"].strip('"')
    index = (match["index"] or "").strip('"') or ("INTEGER PRIMARY KEY" if match["pk"] else "")
    verb = match["verb"]
    operation = "Full scan" if verb == "SCAN" and not index else ("Index scan" if verb == "SCAN" else "Index search")
    extra = {"detail": detail}
    if match["cond"]:
        extra["Index Cond"] = match["cond"].strip()
    return PlanNode(operation=operation, relation=table, index=index, detail=extra)


class SQLiteExplain(Explain):
    can_analyze = False

    def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        statement = one_statement(statement)
        rows = self.adapter._execute("EXPLAIN QUERY PLAN " + statement)
        self.adapter._rollback()
        root = PlanNode(operation="query")
        nodes = {0: root}
        notices: list[str] = []
        for i, (node_id, parent, _unused, detail) in enumerate(rows):
            if i >= MAX_NODES:
                notices.append(f"The plan has more than {MAX_NODES:,} steps; the rest are not shown.")
                break
            node = node_from_detail(str(detail))
            nodes.get(parent, root).children.append(node)
            nodes[node_id] = node
        raw = "\n".join(f"{node_id}\t{parent}\t{detail}" for node_id, parent, _u, detail in rows)
        notices.append("SQLite reports the plan's steps only: no row estimates, actual rows or times.")
        top = root.children[0] if len(root.children) == 1 else root
        return Plan(root=top, analyzed=False, raw=raw, notices=notices)
