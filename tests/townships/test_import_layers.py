"""Which code may import which (docs/architecture.md#layout): ``lib`` imports no app of the project, and the roster
import (townships) never imports notifications; the glue between them is ``config/roster_imports.py``."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = {"config", "core", "accounts", "townships", "referrals", "mediation", "notifications"}


def imported_packages(folder: Path) -> dict[str, set[str]]:
    """File → the top-level packages it imports (at the top or inside a function)."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_lib_imports_no_app_of_the_project():
    modules = imported_packages(ROOT / "lib")
    assert {"lib/spreadsheets/read.py", "lib/spreadsheets/write.py"} <= modules.keys()
    offenders = {path: names & APPS for path, names in modules.items() if names & APPS}
    assert offenders == {}


def test_townships_never_imports_notifications():
    offenders = [path for path, names in imported_packages(ROOT / "townships").items() if "notifications" in names]
    assert offenders == []
