"""A capability module the capability tests list by dotted path (imported only through Adapter.get)."""

from __future__ import annotations

from connections.engines.capabilities import Explain
from connections.engines.results import Plan, PlanNode


class StubExplain(Explain):
    can_analyze = True

    def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        return Plan(root=PlanNode(operation=f"explained by {type(self.adapter).__name__}"), analyzed=analyze, raw="")


class NotAnExplain:
    def __init__(self, adapter: object) -> None:
        self.adapter = adapter
