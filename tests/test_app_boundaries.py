"""accounts knows nothing of connections; connections leans on accounts only for teams, roles and the access core.

One direction cannot be avoided: a connection belongs to a team, and a member's role on it
starts from their team role. So modules in connections/ may import `accounts.models` (Team,
Membership, Role) and `accounts.access` (team_role, teams_for, NotFound / Forbidden), and
nothing else from accounts. Nothing in accounts/ imports connections, in any form: the
per-connection grant and the per-connection helper live in connections/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS_MAY_USE = ("accounts.models", "accounts.access")
DYNAMIC_IMPORTS = {"import_module", "__import__", "get_model"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module named by an import, a relative import, or a dynamic import with a literal name."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
                found.add(node.args[0].value.replace("/", "."))
    return found


def imports_of(package: str, other: str) -> dict[str, set[str]]:
    """For each module of `package`, the modules of `other` it imports."""
    result = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        module = module_name(path)
        names = imports_in(path.read_text(), module, is_package=path.name == "__init__.py")
        hits = {n for n in names if n == other or n.startswith(other + ".")}
        if hits:
            result[module] = hits
    return result


def test_the_checker_sees_every_kind_of_import() -> None:
    source = "\n".join(
        [
            "import connections.models",
            "from connections import access",
            "from ..connections import forms",
            "import importlib",
            "importlib.import_module('connections.views')",
            "apps.get_model('connections', 'Connection')",
        ]
    )
    found = imports_in(source, "accounts.sub.module")
    assert {"connections.models", "connections.access", "accounts.connections.forms", "connections.views"} <= found
    assert "connections" in found


def test_nothing_in_accounts_imports_connections() -> None:
    assert imports_of("accounts", "connections") == {}


def test_connections_imports_only_teams_roles_and_the_access_core_from_accounts() -> None:
    used = imports_of("connections", "accounts")
    assert used, "connections stands on accounts' teams and roles; the walk must find that"
    beyond = {
        module: sorted(n for n in names if not allowed(n))
        for module, names in used.items()
        if not all(map(allowed, names))
    }
    assert beyond == {}


def allowed(name: str) -> bool:
    return name == "accounts" or any(name == m or name.startswith(m + ".") for m in CONNECTIONS_MAY_USE)


def test_the_allowance_is_narrow() -> None:
    assert allowed("accounts.models.Team") and allowed("accounts.access")
    assert (
        not allowed("accounts.views") and not allowed("accounts.forms.MemberForm") and not allowed("accounts.modelsx")
    )
