"""Engines list capabilities by dotted path: `has()` answers, `get()` binds and caches, a missing file is absent."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError

from connections.engines import ENGINES, adapter_class
from connections.engines.base import ConnectionParams
from connections.engines.browse import KeyBrowsing, ObjectBrowsing, TableBrowsing
from connections.engines.capabilities import Backup, Console, Explain, IndexTools, Monitor
from connections.engines.sqlite.adapter import SQLiteAdapter
from connections.engines.sqlite.browsing import SQLiteBrowsing

STUB = "tests.connections.capability_stub"
BROWSING = {
    "postgresql": TableBrowsing,
    "mysql": TableBrowsing,
    "sqlite": TableBrowsing,
    "mongodb": TableBrowsing,
    "redis": KeyBrowsing,
    "s3": ObjectBrowsing,
    "gcs": ObjectBrowsing,
    "azure": ObjectBrowsing,
}


@pytest.fixture
def sqlite_params(tmp_path: Path) -> ConnectionParams:
    path = tmp_path / "caps.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    return ConnectionParams(engine="sqlite", database=str(path))


class WithMissingExplain(SQLiteAdapter):
    capabilities = {
        **SQLiteAdapter.capabilities,
        Explain: "connections.engines.sqlite.no_such_explain.SQLiteExplain",  # no such file
        Monitor: "connections.engines.nowhere.monitor.Monitor",  # no such package either
    }


class WithStubExplain(SQLiteAdapter):
    capabilities = {**SQLiteAdapter.capabilities, Explain: f"{STUB}.StubExplain"}


class WithWrongClass(SQLiteAdapter):
    capabilities = {**SQLiteAdapter.capabilities, Explain: f"{STUB}.NotAnExplain"}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_each_engine_has_its_browsing_and_the_features_whose_files_are_there(engine: str) -> None:
    cls = adapter_class(engine)
    browsing = [c for c in (TableBrowsing, KeyBrowsing, ObjectBrowsing) if cls.has(c)]
    assert browsing == [BROWSING[engine]]
    for contract in (Console, Explain, IndexTools, Backup, Monitor):
        dotted = cls.capabilities.get(contract, "")
        assert cls.has(contract) == bool(dotted and Path(*dotted.split(".")[:-1]).with_suffix(".py").exists())


def test_get_binds_the_capability_to_the_adapter_and_keeps_it(sqlite_params: ConnectionParams) -> None:
    with SQLiteAdapter(sqlite_params) as adapter:
        browsing = adapter.get(TableBrowsing)
        assert isinstance(browsing, SQLiteBrowsing) and browsing.adapter is adapter
        assert adapter.get(TableBrowsing) is browsing
        assert [t.name for t in browsing.objects("main").items] == ["t"]
        assert adapter.get(KeyBrowsing) is None and adapter.get(ObjectBrowsing) is None


def test_a_capability_whose_module_is_missing_is_absent(sqlite_params: ConnectionParams) -> None:
    assert not WithMissingExplain.has(Explain) and not WithMissingExplain.has(Monitor)
    assert WithMissingExplain.has(TableBrowsing)
    with WithMissingExplain(sqlite_params) as adapter:
        assert adapter.get(Explain) is None and adapter.get(Monitor) is None
        assert adapter.get(TableBrowsing) is not None


def test_a_capability_module_is_imported_on_first_use_only(sqlite_params: ConnectionParams) -> None:
    sys.modules.pop(STUB, None)
    assert WithStubExplain.has(Explain)
    assert STUB not in sys.modules  # has() looks for the file without importing it
    with WithStubExplain(sqlite_params) as adapter:
        explain = adapter.get(Explain)
        assert STUB in sys.modules
        assert explain is not None and explain.can_analyze
        assert explain.explain("SELECT 1").root.operation == "explained by WithStubExplain"


def test_a_listed_class_that_does_not_implement_the_contract_is_refused(sqlite_params: ConnectionParams) -> None:
    with WithWrongClass(sqlite_params) as adapter, pytest.raises(TypeError, match="does not implement Explain"):
        adapter.get(Explain)


def test_templates_ask_capabilities_through_the_has_filter() -> None:
    template = Template(
        '{% load engines %}{% if engine|has:"TableBrowsing" %}grid{% endif %}'
        '{% if engine|has:"KeyBrowsing" %}keys{% endif %}{% if engine|has:"Explain" %}plan{% endif %}'
    )
    assert template.render(Context({"engine": adapter_class("postgresql")})) == "gridplan"
    assert template.render(Context({"engine": adapter_class("redis")})) == "keys"
    assert template.render(Context({"engine": WithStubExplain})) == "gridplan"
    with pytest.raises(TemplateSyntaxError, match="No capability 'Explian'"):
        Template('{% load engines %}{{ engine|has:"Explian" }}').render(Context({"engine": SQLiteAdapter}))


def test_templates_read_adapter_classes_without_calling_them() -> None:
    rendered = Template("{{ cls.display_name }}: {{ cls.namespaces_title }}").render(
        Context({"cls": adapter_class("postgresql")})
    )
    assert rendered == "PostgreSQL: Schemas"
