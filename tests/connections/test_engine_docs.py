"""docs/engines.md keeps the capability table the registry generates, and engine modules stay small."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from connections.engines import ENGINES
from connections.management.commands.engine_table import BEGIN, END

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "engines.md"
MAX_LINES = 500


def test_the_capability_table_in_the_docs_is_up_to_date() -> None:
    call_command("engine_table", "--check")  # raises CommandError when stale


def test_printing_shows_one_row_per_registered_engine() -> None:
    out = io.StringIO()
    call_command("engine_table", stdout=out)
    rows = [line for line in out.getvalue().splitlines() if line.startswith("| ") and "`connections/engines/" in line]
    assert [row.split("`")[1] for row in rows] == [f"connections/engines/{e}/" for e in ENGINES]
    assert rows[0].startswith("| PostgreSQL |") and "| yes |" in rows[0]


def test_a_registry_change_makes_the_docs_stale_until_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "engines.md"
    copy.write_text(DOCS.read_text())
    monkeypatch.setitem(ENGINES, "stub", "tests.connections.engine_stub.StubAdapter")
    with pytest.raises(CommandError, match="out of date"):
        call_command("engine_table", "--check", "--path", str(copy))
    call_command("engine_table", "--write", "--path", str(copy), stdout=io.StringIO())
    call_command("engine_table", "--check", "--path", str(copy))
    before, after = DOCS.read_text(), copy.read_text()
    assert "| Stub store | `connections/engines/stub/` |" in after
    assert after.split(BEGIN)[0] == before.split(BEGIN)[0] and after.split(END)[1] == before.split(END)[1]


def test_a_document_without_markers_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare.md"
    bare.write_text("# Engines\n")
    with pytest.raises(CommandError, match="no table markers"):
        call_command("engine_table", "--check", "--path", str(bare))


def test_no_module_under_connections_engines_passes_500_lines() -> None:
    modules = sorted((ROOT / "connections" / "engines").rglob("*.py"))
    assert len(modules) > 20
    long = {str(p.relative_to(ROOT)): n for p in modules if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


LAZY_DRIVERS = ("google.cloud.storage", "azure.storage.blob", "pymongo", "redis", "boto3", "botocore")

LOADED_AFTER_SETUP = """
import sys
import django
django.setup()
from connections.engines import ENGINES, adapter_class
from connections.forms import ConnectionForm  # builds its fields from every adapter
for engine in ENGINES:
    adapter_class(engine).form_fields
print(" ".join(m for m in sys.argv[1:] if m in sys.modules))
"""


def test_loading_every_adapter_imports_no_heavy_driver(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DBDECK_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_SETUP, *LAZY_DRIVERS], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""  # each is imported where a connection of its engine is used
