"""MongoDB's explain with executionStats, for find / aggregate / count / distinct command documents.

The statement is a JSON command document, e.g. `{"find": "orders", "filter": {"status": "new"}}`,
with an optional `"database"` key (else the connection's database). Servers that report
only the winning plan (SecantusDB reports little) give a tree without actual figures.
"""

from __future__ import annotations

from typing import Any

from bson import json_util
from bson.errors import BSONError

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import Explain
from connections.engines.plantree import MAX_NODES, finish, number, walk
from connections.engines.results import Plan, PlanNode

COMMANDS = ("find", "aggregate", "count", "distinct")
REFUSED = ("$out", "$merge", "$where", "$function", "$accumulator")


def parse_command(statement: str, default_db: str) -> tuple[str, dict[str, Any]]:
    """(database, command) from the JSON text; anything but a read command is refused."""
    try:
        command = json_util.loads(statement)
    except (ValueError, BSONError) as exc:
        raise EngineError(f"The statement is not a JSON command document: {exc}", kind="config") from None
    if not isinstance(command, dict) or not command:
        raise EngineError('Write a command document such as {"find": "orders", "filter": {}}.', kind="config")
    database = str(command.pop("database", "") or default_db)
    verb = next(iter(command))
    if verb not in COMMANDS:
        raise EngineError(f"MongoDB explains {', '.join(COMMANDS)} here; {verb!r} is not one of them.", "config")
    text = json_util.dumps(command)
    for word in REFUSED:
        if f'"{word}"' in text:
            raise EngineError(f"{word} is refused here: EXPLAIN must not write or run server-side code.", "config")
    if not database:
        raise EngineError('Name the database: add "database": "name" to the command.', kind="config")
    refuse_nul(database, str(command[verb]))
    return database, command


def _node(stage: dict[str, Any], stats: dict[str, Any] | None) -> PlanNode:
    name = str(stage.get("stage", "?"))
    detail: dict[str, Any] = {}
    for key in ("filter", "keyPattern", "indexBounds", "sortPattern", "direction", "isMultiKey"):
        if key in stage:
            detail[key] = json_util.dumps(stage[key])
    figures = stats or {}
    for key in ("docsExamined", "keysExamined", "works", "needTime", "advanced"):
        if key in figures:
            detail[key] = figures[key]
    return PlanNode(
        operation=name,
        relation=str(stage.get("namespace", "")),
        index=str(stage.get("indexName", "")),
        estimated_rows=None,
        actual_rows=number(figures.get("nReturned")),
        loops=1 if figures else None,
        inclusive_ms=number(figures.get("executionTimeMillisEstimate")),
        detail=detail,
    )


def _inputs(stage: dict[str, Any]) -> list[dict[str, Any]]:
    found = stage.get("inputStages") or ([stage["inputStage"]] if "inputStage" in stage else [])
    return [s for s in found if isinstance(s, dict)]


def tree_from_explain(document: dict[str, Any], relation: str) -> tuple[PlanNode, bool]:
    """The winning plan, with executionStages' figures laid over it where the server gave them."""
    planner = document.get("queryPlanner") or {}
    if not planner and isinstance(document.get("stages"), list):  # aggregate: the first stage's $cursor
        cursor = next((s.get("$cursor") for s in document["stages"] if isinstance(s, dict) and "$cursor" in s), {})
        planner = cursor.get("queryPlanner") or {}
        document = cursor or document
    winning = planner.get("winningPlan") or {}
    winning = winning.get("queryPlan", winning)  # the slot-based engine wraps it
    stats = (document.get("executionStats") or {}).get("executionStages")
    analyzed = stats is not None
    root = _node(winning or {"stage": "UNKNOWN"}, stats)
    stack = [(winning, stats, root)]
    made = 1
    while stack and made < MAX_NODES:
        stage, figures, node = stack.pop()
        kids, kid_stats = _inputs(stage), _inputs(figures or {})
        for i, kid in enumerate(kids):
            kid_figures = kid_stats[i] if i < len(kid_stats) else None
            child = _node(kid, kid_figures)
            node.children.append(child)
            stack.append((kid, kid_figures, child))
            made += 1
    nodes = [node for node, _ in walk(root)]
    for node in nodes:
        node.relation = node.relation or (relation if node.operation in ("COLLSCAN", "IXSCAN") else "")
    # Servers that give only totals (SecantusDB) still say what the one scan examined.
    totals = document.get("executionStats") or {}
    for stage, total in (("COLLSCAN", "totalDocsExamined"), ("IXSCAN", "totalKeysExamined")):
        scans = [n for n in nodes if n.operation == stage]
        key = "docsExamined" if stage == "COLLSCAN" else "keysExamined"
        if len(scans) == 1 and key not in scans[0].detail and total in totals:
            scans[0].detail[key] = totals[total]
    return root, analyzed


class MongoDBExplain(Explain):
    can_analyze = True  # executionStats runs the query's read; it never writes (writes are refused)
    example = '{"find": "orders", "filter": {"status": "new"}, "sort": {"created": -1}}'  # the form's placeholder

    def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        database, command = parse_command(statement, self.adapter.params.database)
        verb = next(iter(command))
        command.setdefault("maxTimeMS", self.adapter._max_ms)
        verbosity = "executionStats" if analyze else "queryPlanner"
        db = self.adapter._mongo()[database]
        document = self.adapter._call(
            db.command, {"explain": command, "verbosity": verbosity, "maxTimeMS": self.adapter._max_ms}
        )
        document = dict(document)
        root, has_stats = tree_from_explain(document, f"{database}.{command[verb]}")
        finish(root)
        notices = []
        if analyze and not has_stats:
            notices.append("This server's explain gave no executionStats: no actual rows or times.")
        if not (document.get("queryPlanner") or document.get("stages")):
            notices.append("This server's explain reports no query planner section; the plan shown is what it gave.")
        total = number((document.get("executionStats") or {}).get("executionTimeMillis"))
        raw = json_util.dumps(document, indent=2)
        return Plan(root=root, analyzed=analyze and has_stats, raw=raw, total_ms=total, notices=notices)
