"""Imports point one way: gateway -> storage -> rules -> protocol (house-style.md §1).

``protocol`` and ``rules`` are pure: no sockets, event loops, serial ports, database
drivers or clocks. ``cli`` is the composition root and may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {
    "protocol",
    "rules",
    "storage",
    "gateway",
    "simulators",
    "config",
    "cli",
    "reports",
    "console",
    "evidence",
}
ALLOWED = {
    "protocol": {"protocol"},
    "rules": {"rules", "protocol"},
    "storage": {"storage", "rules", "protocol", "config"},
    "gateway": {"gateway", "storage", "rules", "protocol", "config"},
    "simulators": {"simulators", "protocol", "config"},
    "config": {"config"},
    "reports": {"reports", "storage", "rules", "protocol", "config"},
    "evidence": {"evidence", "storage", "rules", "reports", "protocol", "config"},
    "console": {"console", "storage", "rules", "protocol", "config"},
    "cli": PROJECT,
}
IMPURE = {
    "socket",
    "asyncio",
    "anyio",
    "trio",
    "uvloop",
    "selectors",
    "ssl",
    "serial",
    "psycopg",
    "psycopg_pool",
    "time",
    "threading",
    "subprocess",
}
PURE_PACKAGES = {"protocol", "rules"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def violations(package: str, source: str, filename: str = "<src>") -> list[str]:
    """Every forbidden import or clock read in one module of ``package``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        line = getattr(node, "lineno", 0)
        for module in modules:
            top = module.split(".")[0]
            if top in PROJECT and top not in ALLOWED[package]:
                found.append(f"{filename}:{line}: {package} imports {module}")
            if package in PURE_PACKAGES and top in IMPURE:
                found.append(f"{filename}:{line}: pure {package} imports {module}")
        if (
            package in PURE_PACKAGES
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
        ):
            found.append(f"{filename}:{node.lineno}: pure {package} reads the clock")
    return found


def test_every_module_respects_the_layering() -> None:
    found: list[str] = []
    checked = 0
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += violations(package, path.read_text("utf-8"), str(path.relative_to(ROOT)))
            checked += 1
    assert checked >= 20, "the walk found too few modules: is the tree where we think?"
    assert found == []


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("protocol", "import socket"),
        ("protocol", "from asyncio import Queue"),
        ("rules", "import anyio"),
        ("rules", "import psycopg"),
        ("protocol", "import serial.tools"),
        ("protocol", "from storage.writer import Writer"),
        ("rules", "from gateway import app"),
        ("storage", "from gateway.session import Stats"),
        ("protocol", "from datetime import datetime\nx = datetime.now()"),
        ("simulators", "import storage"),
    ],
)
def test_checker_catches_a_violation(package: str, source: str) -> None:
    assert violations(package, source) != []


def test_checker_accepts_the_declared_direction() -> None:
    assert violations("gateway", "from storage.writer import Writer\nimport asyncio") == []
    assert violations("rules", "from protocol import DataUpload") == []
