"""What-if index advice on PostgreSQL: candidates from the plan's predicates, measured with HypoPG.

Candidates come from the verbose plan (columns compared by equality, by range, joined on,
sorted by), single and two-column in equality-sort-range order. Each is created as a
hypothetical index (backend memory only, nothing written), the statement re-planned, and
the hypothetical indexes reset. Without HypoPG the same candidates come back labelled
"heuristic", with no costs, and a notice says how to enable it.
"""

from __future__ import annotations

import re
from typing import Any

from connections.engines.base import EngineError
from connections.engines.results import IndexSuggestion
from connections.engines.sqlbase import TAG

IDENT = r'"(?:[^"]|"")+"|[A-Za-z_][\w$]*'
REF = re.compile(
    rf"(?:(?P<alias>{IDENT})\.)?(?P<col>{IDENT})(?:\)?::[\w ]+(?:\[\])?)*\)?\s*"
    r"(?P<op>= ANY|=|<>|<=|>=|<|>|~~\*?|IS NOT|IS)?"
)
CONDITIONS = ("Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter")
JOINS = ("Hash Cond", "Merge Cond", "Join Filter")
KEYWORDS = {"and", "or", "not", "null", "true", "false", "any", "array", "case", "when", "then", "else", "end"}
MAX_CANDIDATES = 12
ENABLE_HYPOPG = (
    "HypoPG is not installed in this database, so this advice is a heuristic: the candidates were not measured. "
    "To measure them, install the hypopg package on the server (Debian: postgresql-<version>-hypopg) and run "
    "CREATE EXTENSION hypopg; as a superuser or the database owner."
)


def _name(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def hypopg_state(adapter: Any) -> tuple[bool, str]:
    rows = adapter._execute(
        "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'),"
        " (SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg')"
    )
    adapter._rollback()
    installed, available = rows[0]
    if installed:
        return True, ""
    if available:
        return False, ENABLE_HYPOPG.split(" To measure")[0] + " HypoPG is on the server: run CREATE EXTENSION hypopg;"
    return False, ENABLE_HYPOPG


def _nodes(top: dict[str, Any]) -> list[dict[str, Any]]:
    found, stack = [], [top]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("Plans") or [])
    return found


def columns_by_relation(top: dict[str, Any]) -> dict[tuple[str, str], dict[str, list[str]]]:
    """Per (schema, table): columns compared by equality, by range, joined on and sorted by."""
    nodes = _nodes(top)
    aliases: dict[str, tuple[str, str]] = {}
    for node in nodes:
        if node.get("Relation Name") and node.get("Schema"):
            aliases[node.get("Alias") or node["Relation Name"]] = (node["Schema"], node["Relation Name"])
    found: dict[tuple[str, str], dict[str, list[str]]] = {
        rel: {"eq": [], "range": [], "join": [], "sort": []} for rel in aliases.values()
    }

    def add(rel: tuple[str, str] | None, kind: str, col: str) -> None:
        if rel is not None and col not in found[rel][kind]:
            found[rel][kind].append(col)

    for node in nodes:
        own = aliases.get(node.get("Alias", "")) if node.get("Relation Name") else None
        for key in CONDITIONS:
            text = node.get(key)
            if not text:
                continue
            for match in REF.finditer(str(text)):
                col = _name(match["col"])
                if col.lower() in KEYWORDS or match["col"][0].isdigit():
                    continue
                rel = aliases.get(_name(match["alias"])) if match["alias"] else own
                if match["alias"] is None and (own is None or match["op"] is None):
                    continue
                if key in JOINS:
                    add(rel, "join", col)
                elif match["op"] in ("=", "= ANY", "IS", "IS NOT"):
                    add(rel, "eq", col)
                elif match["op"]:
                    add(rel, "range", col)
        for key in node.get("Sort Key") or []:
            match = REF.match(str(key).strip())
            if match and match["alias"]:
                add(aliases.get(_name(match["alias"])), "sort", _name(match["col"]))
    return found


def candidates(cols: dict[str, list[str]]) -> list[tuple[str, ...]]:
    """Single and two-column indexes in equality-sort-range order, most promising first."""
    equal = cols["eq"] + [c for c in cols["join"] if c not in cols["eq"]]
    out: list[tuple[str, ...]] = [(c,) for c in equal + cols["range"] + cols["sort"]]
    for a in equal:
        out += [(a, b) for b in equal if b != a]
        out += [(a, s) for s in cols["sort"] if s != a]
        out += [(a, r) for r in cols["range"] if r != a]
    for s in cols["sort"]:
        out += [(s, r) for r in cols["range"] if r != s]
    return list(dict.fromkeys(out))[:MAX_CANDIDATES]


def suggest(adapter: Any, statement: str) -> tuple[list[IndexSuggestion], str]:
    from connections.engines.postgresql.explain import PostgreSQLExplain

    explain = PostgreSQLExplain(adapter)
    top, _ = explain.run(statement, verbose=True)
    before = float(top["Plan"]["Total Cost"])
    q = adapter.dialect.quote
    installed, notice = hypopg_state(adapter)
    suggestions: list[IndexSuggestion] = []
    for (ns, table), cols in columns_by_relation(top["Plan"]).items():
        for columns in candidates(cols):
            create = f"CREATE INDEX CONCURRENTLY ON {q(ns)}.{q(table)} ({', '.join(q(c) for c in columns)})"
            if not installed:
                why = _why(cols, columns)
                suggestions.append(IndexSuggestion(ns, table, columns, create + ";", "heuristic", before, None, why))
                continue
            try:
                adapter._execute(
                    "SELECT indexrelid FROM hypopg_create_index(%s)", [create.replace(" CONCURRENTLY", "")]
                )
                after = explain.cost(statement)
            except EngineError:
                continue  # a column type btree cannot index: not a candidate
            finally:
                adapter._execute(TAG + "SELECT hypopg_reset()")
                adapter._rollback()
            cut = 1 - after / before if before else 0.0
            reason = f"the planner's cost falls from {before:,.2f} to {after:,.2f} ({cut:.0%} less)"
            suggestions.append(IndexSuggestion(ns, table, columns, create + ";", "hypothetical", before, after, reason))
    suggestions.sort(key=lambda s: (s.cost_after if s.cost_after is not None else before, len(s.columns)))
    return suggestions, notice


def _why(cols: dict[str, list[str]], columns: tuple[str, ...]) -> str:
    words = {"eq": "compared by equality", "join": "joined on", "sort": "sorted by", "range": "compared by range"}
    parts = []
    for c in columns:
        kind = next((k for k in ("eq", "join", "sort", "range") if c in cols[k]), "eq")
        parts.append(f"{c} is {words[kind]}")
    return "Heuristic (not measured): " + ", ".join(parts) + "."
