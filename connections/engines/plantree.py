"""What every engine's EXPLAIN shares: walking a plan without recursion, timing, serializing, one statement.

Plans can be thousands of nodes wide or deep, so nothing here recurses: walks keep an
explicit stack, and `finish()` fills exclusive times bottom-up from a post-order list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from connections.engines.base import EngineError
from connections.engines.results import Plan, PlanNode

MAX_NODES = 20_000  # a plan beyond this is cut (with a notice) so a page stays bounded


def walk(root: PlanNode) -> Iterator[tuple[PlanNode, int]]:
    """Every node with its depth, in pre-order (the order a tree is read)."""
    stack: list[tuple[PlanNode, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


def count(root: PlanNode) -> int:
    return sum(1 for _ in walk(root))


def finish(root: PlanNode) -> None:
    """Exclusive time where the engine gave inclusive time only: a node's own time minus its children's."""
    order = [node for node, _ in walk(root)]
    for node in reversed(order):
        if node.exclusive_ms is None and node.inclusive_ms is not None:
            below = sum(c.inclusive_ms or 0.0 for c in node.children)
            node.exclusive_ms = max(0.0, node.inclusive_ms - below)


def to_dict(root: PlanNode) -> dict[str, Any]:
    """The tree as JSON-ready dicts (saved plans), built with a stack."""
    out: dict[str, Any] = {}
    stack: list[tuple[PlanNode, dict[str, Any]]] = [(root, out)]
    while stack:
        node, target = stack.pop()
        target.update(
            op=node.operation,
            rel=node.relation,
            idx=node.index,
            est=node.estimated_rows,
            act=node.actual_rows,
            loops=node.loops,
            inc=node.inclusive_ms,
            exc=node.exclusive_ms,
            buf=node.buffers,
            detail={
                k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in node.detail.items()
            },
            kids=[],
        )
        for child in node.children:
            slot: dict[str, Any] = {}
            target["kids"].append(slot)
            stack.append((child, slot))
    return out


def from_dict(data: dict[str, Any]) -> PlanNode:
    def make(d: dict[str, Any]) -> PlanNode:
        return PlanNode(
            operation=str(d.get("op", "?")),
            relation=str(d.get("rel") or ""),
            index=str(d.get("idx") or ""),
            estimated_rows=d.get("est"),
            actual_rows=d.get("act"),
            loops=d.get("loops"),
            inclusive_ms=d.get("inc"),
            exclusive_ms=d.get("exc"),
            buffers=dict(d.get("buf") or {}),
            detail=dict(d.get("detail") or {}),
        )

    root = make(data)
    stack = [(data, root)]
    while stack:
        d, node = stack.pop()
        for kid in d.get("kids") or []:
            child = make(kid)
            node.children.append(child)
            stack.append((kid, child))
    return root


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "root": to_dict(plan.root),
        "analyzed": plan.analyzed,
        "total_ms": plan.total_ms,
        "rolled_back": plan.rolled_back,
        "notices": plan.notices,
    }


def plan_from_dict(data: dict[str, Any], raw: str) -> Plan:
    return Plan(
        root=from_dict(data["root"]),
        analyzed=bool(data.get("analyzed")),
        raw=raw,
        total_ms=data.get("total_ms"),
        rolled_back=bool(data.get("rolled_back")),
        notices=list(data.get("notices") or []),
    )


# Quoted strings, quoted identifiers, comments and PostgreSQL dollar quotes hide semicolons.
_TOKENS = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|/\*.*?\*/|(\$[A-Za-z_0-9]*\$).*?\1|;""",
    re.DOTALL,
)


def one_statement(text: str) -> str:
    """The statement without trailing semicolons; more than one statement is refused (EXPLAIN takes one)."""
    refuse_nul_text(text)
    statement = text.strip()
    while statement.endswith(";"):
        statement = statement[:-1].rstrip()
    if not statement:
        raise EngineError("Type a statement to explain.", kind="config")
    for match in _TOKENS.finditer(statement):
        if match.group(0) == ";":
            raise EngineError("EXPLAIN takes one statement; remove everything after the first ';'.", kind="config")
    return statement


def refuse_nul_text(text: str) -> None:
    if "\x00" in text:
        raise EngineError("The statement contains a NUL byte; remove it and try again.", kind="config")


def number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# A column compared in a filter: PostgreSQL "(status = 'x'::text)", MySQL "`t`.`status` = 'x'".
COMPARED = re.compile(
    r"""(?:[`"]?[\w$]+[`"]?\.)*[`"]?(?P<col>[A-Za-z_][\w$]*)[`"]?\)?(?:::[\w ]+)?\s*"""
    r"""(?P<op>=|<>|!=|<=|>=|<|>|~~\*?|!~~|\bIS\b|\bIN\b|\bBETWEEN\b|\bLIKE\b)""",
    re.IGNORECASE,
)
NOT_COLUMNS = {"and", "or", "not", "null", "true", "false", "text", "integer", "numeric", "any", "array"}
MONGO_RANGE = ("$gt", "$gte", "$lt", "$lte", "$ne", "$nin", "$regex", "$exists")


def compared_columns(text: str) -> tuple[list[str], list[str]]:
    """(equality columns, range columns) a filter compares: an SQL condition or a MongoDB filter document."""
    equal: list[str] = []
    ranged: list[str] = []
    if text.startswith("{"):
        for name, value in re.findall(r'"([^"$][^"]*)"\s*:\s*(\{[^{}]*\}|[^,}]*)', text):
            (ranged if any(op in value for op in MONGO_RANGE) else equal).append(name)
    else:
        for match in COMPARED.finditer(text):
            col = match["col"]
            if col.lower() in NOT_COLUMNS or col[0].isdigit():
                continue
            (equal if match["op"].upper() in ("=", "IN", "IS") else ranged).append(col)
    equal = list(dict.fromkeys(equal))
    return equal, [c for c in dict.fromkeys(ranged) if c not in equal]


def esr(equal: list[str], sort: list[str], ranged: list[str]) -> list[tuple[str, ...]]:
    """Candidate indexes, single and two-column, in equality-sort-range order."""
    out: list[tuple[str, ...]] = []
    lead = equal or sort or ranged
    if not lead:
        return out
    ordered = list(dict.fromkeys(equal + sort + ranged))
    if len(ordered) >= 2:
        out.append((ordered[0], ordered[1]))
    out += [(c,) for c in ordered]
    return list(dict.fromkeys(out))[:6]
