"""`{% if connection|has:"Explain" %}`: templates ask an engine's capabilities, never its name."""

from __future__ import annotations

from typing import Any

from django import template

from connections.engines.base import Adapter
from connections.engines.capabilities import CONTRACTS

register = template.Library()


@register.filter
def has(engine: Any, capability: str) -> bool:
    """Whether a connection's engine (or an adapter or adapter class) has the named capability."""
    cls: type[Adapter] = engine.adapter_cls if hasattr(engine, "adapter_cls") else engine
    try:
        contract = CONTRACTS[capability]
    except KeyError:
        raise template.TemplateSyntaxError(
            f"No capability {capability!r}; choose one of {', '.join(CONTRACTS)}."
        ) from None
    return cls.has(contract)
