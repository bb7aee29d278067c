"""The house rule on imports: a plugin imports the core, never another plugin; the core,
the admin and the scheduler import no plugin. Plugins find each other through hooks."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def crossings(folder: Path, allowed_plugin: str | None, root: Path = ROOT) -> list[str]:
    wrong = []
    for path in sorted(folder.rglob("*.py")):
        for line, module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "plugins" and len(parts) > 1 and parts[1] != allowed_plugin:
                wrong.append(f"{path.relative_to(root)}:{line} imports {module}")
    return wrong


def test_the_core_the_admin_and_the_scheduler_import_no_plugin():
    wrong = [w for top in ("core", "admin", "scheduler") for w in crossings(ROOT / top, None)]
    assert wrong == []


def test_no_plugin_imports_another_plugin():
    plugins = [p for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()]
    assert len(plugins) >= 14
    wrong = [w for plugin in plugins for w in crossings(plugin, plugin.name)]
    assert wrong == []


def test_the_check_sees_a_crossing(tmp_path):
    """The check is not blind: an import of another plugin is reported with its line."""
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "x.py").write_text("import os\nfrom plugins.archives import services\n")
    assert crossings(folder, "releases", tmp_path) == ["somewhere/x.py:2 imports plugins.archives"]
    assert crossings(folder, "archives", tmp_path) == []
