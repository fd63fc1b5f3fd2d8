"""SQLite's EXPLAIN QUERY PLAN as a tree; SQLite has no actual row counts, so no ANALYZE."""

from __future__ import annotations

import re

from connections.engines.base import EngineError
from connections.engines.capabilities import Explain
from connections.engines.plantree import MAX_NODES, one_statement, walk
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


def compared(statement: str, names: list[str]) -> tuple[list[str], list[str]]:
    """(equality, range) columns among `names` that the statement compares, quoted or bare."""
    equal, ranged = [], []
    for name in names:
        forms = [re.escape('"' + name.replace('"', '""') + '"')]
        if re.fullmatch(r"[A-Za-z_]\w*", name):
            forms.append(rf"\b{name}\b")
        match = re.search(
            rf"(?:{'|'.join(forms)})\s*(=|==|\bIN\b|\bIS\b|<=|>=|<|>|!=|\bLIKE\b|\bBETWEEN\b)", statement, re.I
        )
        if match:
            (equal if match[1].upper() in ("=", "==", "IN", "IS") else ranged).append(name)
    return equal, ranged


class SQLiteExplain(Explain):
    can_analyze = False
    example = "SELECT * FROM orders WHERE status = 'shipped'"  # the form's placeholder

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
        self._estimate(statement, root)
        raw = "\n".join(f"{node_id}\t{parent}\t{detail}" for node_id, parent, _u, detail in rows)
        notices.append("SQLite reports the plan's steps only: no row estimates, actual rows or times.")
        top = root.children[0] if len(root.children) == 1 else root
        return Plan(root=top, analyzed=False, raw=raw, notices=notices)

    def _estimate(self, statement: str, root: PlanNode) -> None:
        """Full scans get a row estimate (the table's largest rowid, read from the b-tree's edge, not a count)
        and the columns the statement compares on that table, so hints can name an index."""
        for node, _ in walk(root):
            if node.operation != "Full scan" or not node.relation:
                continue
            q = self.adapter.dialect.quote(node.relation)
            try:
                node.estimated_rows = float(self.adapter._execute(f"SELECT max(rowid) FROM {q}")[0][0] or 0)
                names = [str(r[1]) for r in self.adapter._execute(f"PRAGMA table_info({q})")]
            except EngineError:
                continue  # a WITHOUT ROWID table or a view: no estimate
            equal, ranged = compared(statement, names)
            if equal:
                node.detail["equality columns"] = ", ".join(equal)
            if ranged:
                node.detail["range columns"] = ", ".join(ranged)
        self.adapter._rollback()
