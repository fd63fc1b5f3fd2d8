"""The system check keeps the engine registry and Connection.engine's choices in step, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from connections.checks import engines_match_registry
from connections.engines import ENGINES, choices
from connections.models import Connection


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


@pytest.fixture
def engine_field(monkeypatch: pytest.MonkeyPatch) -> Any:
    field = Connection._meta.get_field("engine")
    monkeypatch.setattr(field, "choices", field.choices)  # restored after the test
    return field


def test_the_project_passes_the_engine_check() -> None:
    assert engines_match_registry() == []
    assert [value for value, _ in Connection._meta.get_field("engine").flatchoices] == list(ENGINES)


def test_a_registered_engine_missing_from_the_choices_fails(engine_field: Any) -> None:
    engine_field.choices = [(value, label) for value, label in choices() if value != "redis"]
    errors = engines_match_registry()
    assert ids(errors) == ["connections.E001"] and "'redis'" in errors[0].msg


def test_a_choice_without_a_registered_engine_fails(engine_field: Any) -> None:
    engine_field.choices = [*choices(), ("oracle", "Oracle")]
    errors = engines_match_registry()
    assert ids(errors) == ["connections.E002"] and "'oracle'" in errors[0].msg


def test_a_registry_line_that_leads_nowhere_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENGINES, "oracle", "connections.engines.oracle.adapter.OracleAdapter")
    errors = engines_match_registry()
    assert ids(errors) == ["connections.E003"] and "oracle" in errors[0].msg


def test_a_registry_line_naming_another_engine_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENGINES, "postgres", ENGINES["postgresql"])
    assert ids(engines_match_registry()) == ["connections.E003"]


def test_a_new_engine_needs_only_its_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENGINES, "stub", "tests.connections.engine_stub.StubAdapter")
    assert engines_match_registry() == []
    assert ("stub", "Stub store") in Connection._meta.get_field("engine").flatchoices


def test_the_check_runs_with_djangos_own_checks(engine_field: Any) -> None:
    engine_field.choices = [(value, label) for value, label in choices() if value != "s3"]
    assert "connections.E001" in ids(run_checks(tags=["models"]))
