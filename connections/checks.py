"""System checks: the engine registry, the model's engine choices and the engines' self-descriptions agree."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error

from connections.engines import ENGINES, adapter_class
from connections.engines.base import SETTINGS, Adapter, Option

HINT = "Register the engine in connections/engines/__init__.py ENGINES (see docs/engines.md)."


def engines_match_registry(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Fail when a registry line does not lead to its adapter, or the engine choices and the registry differ."""
    from connections.models import Connection

    errors: list[CheckMessage] = []
    classes: list[type[Adapter]] = []
    for name, dotted in ENGINES.items():
        try:
            cls = adapter_class(name)
        except (ImportError, AttributeError) as exc:
            errors.append(
                Error(f"ENGINES[{name!r}] = {dotted!r} cannot be imported: {exc}", hint=HINT, id="connections.E003")
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, Adapter)) or cls.engine != name:
            errors.append(
                Error(
                    f"ENGINES[{name!r}] = {dotted!r} is not an Adapter whose `engine` is {name!r}.",
                    hint=HINT,
                    id="connections.E003",
                )
            )
            continue
        classes.append(cls)
    if errors:
        return errors  # the model's choices are read from the registry: fix it first
    field = Connection._meta.get_field("engine")
    chosen = [str(value) for value, _ in field.flatchoices]
    for name in ENGINES:
        if name not in chosen:
            errors.append(
                Error(
                    f"The engine {name!r} is registered but is not a choice of Connection.engine.",
                    hint="Let Connection.engine take its choices from connections.engines.choices, not a list.",
                    id="connections.E001",
                )
            )
    for value in chosen:
        if value not in ENGINES:
            errors.append(
                Error(
                    f"Connection.engine offers {value!r}, which has no registered adapter.",
                    hint=HINT,
                    id="connections.E002",
                )
            )
    for name in ENGINES:
        if len(name) > (field.max_length or 0):
            errors.append(
                Error(f"The engine name {name!r} is longer than Connection.engine allows.", id="connections.E004")
            )
    errors.extend(_descriptions(classes))
    return errors


def _descriptions(classes: list[type[Adapter]]) -> list[CheckMessage]:
    """Each engine's form description uses known settings, and an option name means one thing everywhere."""
    errors: list[CheckMessage] = []
    options: dict[str, tuple[str, Option]] = {}
    for cls in classes:
        unknown = [s for s in (*cls.form_fields, *cls.form_labels) if s not in SETTINGS]
        if unknown:
            errors.append(
                Error(
                    f"{cls.__qualname__} names unknown settings {unknown}; use {list(SETTINGS)}.", id="connections.E005"
                )
            )
        for option in cls.options:
            first = options.setdefault(option.name, (cls.engine, option))
            if first[1] != option:
                errors.append(
                    Error(
                        f"The option {option.name!r} of {cls.engine!r} differs from the one {first[0]!r} declares; "
                        "the connection form has one field per option name.",
                        id="connections.E006",
                    )
                )
    return errors
