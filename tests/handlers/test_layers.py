"""The layers hold: handlers never import a platform or web library, and the dashboard
reaches storage only through its narrow verbs, among which there is no erasure."""

from __future__ import annotations

import ast
from pathlib import Path

from storage.protocols import DashboardStore

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_HANDLERS = ("aiohttp", "telegram", "jinja2", "aiohttp_session", "bot")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_handlers_import_no_platform_and_no_web_library() -> None:
    files = sorted((ROOT / "handlers").glob("*.py"))
    assert len(files) > 20
    for path in files:
        assert not _imports(path) & set(FORBIDDEN_IN_HANDLERS), path.name


def test_the_dashboard_cannot_erase_anyone() -> None:
    verbs = {name for name in dir(DashboardStore) if not name.startswith("_")}
    assert "list_tickets" in verbs and "get_person_in_scope" in verbs
    assert not {name for name in verbs if "erase" in name or "anonymise" in name}
    for path in sorted((ROOT / "bot" / "web").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "erase_person" not in source and "storage.store" not in source, path.name
