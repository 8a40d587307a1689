"""Which code may import which: every app only from the layers below it, at the top of a module or
inside a function alike. A new import across the line fails here, with the file that made it.

    lib  ←  core  ←  accounts, townships  ←  notifications  ←  referrals  ←  mediation, messaging  ←  portal
                                                                                     ←  dashboard, config

``lib`` is plain library code (spreadsheets, what an upload really is); ``core`` the base every app
stands on (domain errors, the read audit, request safety); ``dashboard`` and ``config`` are the top,
which may use everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROJECT = {
    "lib",
    "core",
    "accounts",
    "townships",
    "notifications",
    "referrals",
    "mediation",
    "messaging",
    "portal",
    "dashboard",
    "config",
}
MAY_IMPORT = {
    "lib": set(),
    "core": {"lib"},
    "accounts": {"lib", "core"},
    "townships": {"lib", "core"},
    "notifications": {"lib", "core", "accounts", "townships"},
    "referrals": {"lib", "core", "accounts", "townships", "notifications"},
    "mediation": {"lib", "core", "accounts", "townships", "notifications", "referrals"},
    # Messages to the parties: hooks into referral steps through the registry, as mediation does.
    "messaging": {"lib", "core", "accounts", "townships", "notifications", "referrals"},
    # The parties' pages: what a party may see and do, through the apps that hold it.
    "portal": {"lib", "core", "accounts", "townships", "notifications", "referrals", "mediation", "messaging"},
}


def imports_of(package: str) -> dict[str, set[str]]:
    """File → the project's top-level packages it imports (anywhere in the file), migrations aside."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = (names & PROJECT) - {package}
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_the_layers_below_it(package):
    modules = imports_of(package)
    assert modules, f"{package} has no modules"
    offenders = {
        path: sorted(names - MAY_IMPORT[package]) for path, names in modules.items() if names - MAY_IMPORT[package]
    }
    assert offenders == {}
