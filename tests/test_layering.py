"""One room for each job, and imports point one way (docs/architecture.md §1; issue 16).

The table :data:`ALLOWED` is the design: which top-level package may import which.
Every top-level Python package of the repository is in it (or is free: ``tests`` and
``benchmarks``), so a new folder has to be placed before it can land. ``cli`` is the
composition root and may import anything.

``protocol`` and ``rules`` are pure: no sockets, event loops, serial ports, database
drivers, files, subprocesses, environment or clocks (a clock reached through an alias,
``from datetime import datetime as dt; dt.now()``, is still a clock). Relative and
dynamic imports are refused everywhere in the layered packages, since the table could
not see what they import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FREE = {"tests", "benchmarks"}
_SHARED = {"services", "storage", "rules", "protocol", "config"}
ALLOWED: dict[str, set[str]] = {
    "protocol": set(),
    "rules": {"protocol"},
    "config": {"protocol", "rules"},  # code tables; the rules settings hold a Ruleset
    "storage": {"protocol", "rules", "config"},  # rules: model types
    "services": {"storage", "rules", "protocol", "config"},
    "gateway": {"services", "storage", "rules", "protocol", "config"},
    "reports": set(_SHARED),
    "evidence": _SHARED | {"reports"},
    "console": _SHARED | {"evidence", "reports"},
    "ops": {"storage", "config"},
    "simulators": {"protocol", "config"},
    "cli": set(),  # the composition root: filled in below
}
PROJECT = set(ALLOWED) | FREE
ALLOWED["cli"] = PROJECT - FREE
PURE_PACKAGES = {"protocol", "rules"}
# modules whose import alone means I/O, concurrency, a clock or a way round the table
IMPURE = {
    "aiohttp",
    "anyio",
    "asyncio",
    "builtins",
    "concurrent",
    "fcntl",
    "ftplib",
    "glob",
    "http",
    "httpx",
    "importlib",
    "io",
    "mmap",
    "multiprocessing",
    "os",
    "psycopg",
    "psycopg_pool",
    "requests",
    "sched",
    "selectors",
    "serial",
    "shutil",
    "signal",
    "smtplib",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "trio",
    "urllib",
    "uvloop",
    "websockets",
}
# attributes that read a clock, called or merely taken (``f = datetime.now``)
CLOCK_ATTRS = {
    "now",
    "utcnow",
    "today",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
    "time_ns",
    "clock_gettime",
}
CLOCK_CALLS = CLOCK_ATTRS | {"time"}  # ``x.time()``: ``time.time`` under any alias
# pathlib and file-object methods that touch the file system
FILE_METHODS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "touch",
    "mkdir",
    "rmdir",
    "unlink",
    "rename",
    "replace_file",
    "iterdir",
    "glob",
    "rglob",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "chmod",
    "symlink_to",
    "hardlink_to",
    "readlink",
    "resolve",
    "expanduser",
    "home",
    "cwd",
}
BUILTIN_IO = {"open", "input", "print", "__import__", "exec", "eval", "compile", "breakpoint"}
DYNAMIC_IMPORT = {"import_module", "__import__", "spec_from_file_location", "module_from_spec"}
# importlib's package-data and metadata readers are not dynamic imports (but they read
# files, so ``importlib`` is IMPURE all the same)
IMPORTLIB_OK = {"importlib.resources", "importlib.metadata"}


def _imports(node: ast.AST) -> list[str]:
    """The modules an import statement names (and ``module.name`` for a from-import)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


def _targets(node: ast.AST) -> list[str]:
    """What an import binds: ``importlib`` for ``import importlib``, ``importlib.util``
    for ``from importlib import util``."""
    if isinstance(node, ast.ImportFrom):
        return _imports(node)[1:]
    return _imports(node)


def _layer(package: str, node: ast.AST, where: str) -> list[str]:
    found = []
    if isinstance(node, ast.ImportFrom) and node.level:
        found.append(f"{where}: relative import (the table cannot place it)")
    for module in _imports(node):
        top = module.split(".")[0]
        if top in PROJECT and top != package and top not in ALLOWED[package]:
            found.append(f"{where}: {package} imports {module}")
    for target in _targets(node):
        if target.split(".")[0] != "importlib" or target.startswith(tuple(IMPORTLIB_OK)):
            continue
        found.append(f"{where}: dynamic import through {target}")
    if isinstance(node, ast.Call) and _called(node.func) in DYNAMIC_IMPORT:
        found.append(f"{where}: dynamic import through {_called(node.func)}()")
    return found


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _clock_names(tree: ast.AST) -> set[str]:
    """The local names of ``datetime``/``time`` and their classes, aliases included
    (``from datetime import datetime as dt`` binds ``dt``)."""
    names = {"datetime", "date", "time"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for alias in node.names:
                if (module or alias.name).split(".")[0] in {"datetime", "time"}:
                    names.add(alias.asname or alias.name.split(".")[0])
    return names


def _clock(package: str, node: ast.AST, where: str, clocks: set[str]) -> list[str]:
    found = []
    if isinstance(node, ast.Call):
        func = node.func
        # ``x.now()`` on anything: rules get ``now`` as data, not from a clock object
        if isinstance(func, ast.Attribute) and func.attr in CLOCK_CALLS:
            found.append(f"{where}: pure {package} reads the clock (.{func.attr}())")
        if isinstance(func, ast.Name) and func.id in {"getattr", "vars"} and node.args[1:]:
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and attr.value in CLOCK_CALLS | FILE_METHODS:
                found.append(f"{where}: pure {package} reaches {attr.value} by name")
    # ``clock = datetime.now`` (taken, to be called later)
    if isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRS:
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id in clocks) or (
            isinstance(owner, ast.Attribute) and owner.attr in {"datetime", "date"}
        ):
            found.append(f"{where}: pure {package} reads the clock (.{node.attr})")
    return found


def _purity(package: str, node: ast.AST, where: str) -> list[str]:
    found = [
        f"{where}: pure {package} imports {module}"
        for module in _imports(node)
        if module.split(".")[0] in IMPURE
    ]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in FILE_METHODS:
            found.append(f"{where}: pure {package} touches files (.{func.attr}())")
        if isinstance(func, ast.Name) and func.id in BUILTIN_IO:
            found.append(f"{where}: pure {package} calls {func.id}()")
    return found


def violations(package: str, source: str, filename: str = "<src>") -> list[str]:
    """Every forbidden import, I/O call or clock read in one module of ``package``."""
    found: list[str] = []
    tree = ast.parse(source, filename)
    clocks = _clock_names(tree)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        found += _layer(package, node, where)
        if package in PURE_PACKAGES:
            found += _purity(package, node, where) + _clock(package, node, where, clocks)
    return sorted(set(found))


def top_level_packages() -> set[str]:
    """Every folder of the checkout that holds Python code (hidden ones and build
    artefacts aside), and a name for every Python file at the top."""
    found = {p.stem for p in ROOT.glob("*.py")}
    for folder in ROOT.iterdir():
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if folder.name.endswith(".egg-info") or folder.name in {"var", "build", "dist"}:
            continue
        if next(folder.rglob("*.py"), None) is not None:
            found.add(folder.name)
    return found


def test_every_package_is_placed_in_the_table() -> None:
    packages = top_level_packages()
    assert {"protocol", "rules", "cli", "tests"} <= packages, "is the tree where we think?"
    assert packages - PROJECT == set(), "a new top-level package: place it in ALLOWED"


def test_the_table_is_the_design() -> None:
    assert ALLOWED["protocol"] == set()
    assert ALLOWED["rules"] == {"protocol"}
    assert ALLOWED["simulators"] == {"protocol", "config"}
    assert ALLOWED["ops"] == {"storage", "config"}
    assert ALLOWED["cli"] == PROJECT - FREE
    for package, allowed in ALLOWED.items():
        assert not allowed & FREE, f"{package} may not import tests or benchmarks"
        assert "cli" not in allowed or package == "cli", package


def test_every_module_respects_the_layering() -> None:
    found: list[str] = []
    checked = 0
    for package in sorted(ALLOWED):
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
        ("protocol", "from services.writer import Writer"),
        ("rules", "from gateway import app"),
        ("storage", "from gateway.session import Stats"),
        ("storage", "from services import alarms"),
        ("services", "from gateway.app import run"),
        ("ops", "from rules.engine import Engine"),
        ("reports", "from console import app"),
        ("evidence", "from console.api import router"),
        ("config", "from storage.db import Pool"),
        ("simulators", "import storage"),
        ("simulators", "from rules import model"),
        ("gateway", "from cli import main"),
        ("console", "import tests.databases"),
        ("gateway", "from . import session"),
        ("storage", "from .db import Conn"),
        ("gateway", "import importlib\nm = importlib.import_module('cli')"),
        ("storage", "from importlib import import_module"),
        ("console", "m = __import__('cli')"),
        ("protocol", "from datetime import datetime\nx = datetime.now()"),
        ("protocol", "from datetime import datetime as dt\nx = dt.now()"),
        ("rules", "import datetime as d\nx = d.datetime.utcnow()"),
        ("rules", "from datetime import date\nx = date.today()"),
        ("rules", "from datetime import datetime\nclock = datetime.now"),
        ("rules", "from datetime import datetime\nx = getattr(datetime, 'now')()"),
        ("rules", "from time import time"),
        ("rules", "from time import monotonic as m"),
        ("protocol", "import time as t\nx = t.monotonic()"),
        ("rules", "x = loop.time()"),
        ("rules", "x = open('state.json').read()"),
        ("rules", "from pathlib import Path\nx = Path('a').read_text()"),
        ("protocol", "def f(p):\n    p.write_bytes(b'')"),
        ("rules", "import os\nos.remove('x')"),
        ("rules", "from os import environ"),
        ("protocol", "import urllib.request"),
        ("protocol", "import httpx"),
        ("rules", "import requests"),
        ("rules", "import subprocess"),
        ("protocol", "from socket import create_connection"),
        ("protocol", "import importlib.resources"),
        ("rules", "print('alarm')"),
    ],
)
def test_checker_catches_a_violation(package: str, source: str) -> None:
    assert violations(package, source) != []


@pytest.mark.parametrize(
    ("package", "source"),
    [
        ("gateway", "from services.writer import Writer\nimport asyncio"),
        ("rules", "from protocol import DataUpload"),
        ("services", "from storage.db import Pool\nimport asyncio"),
        ("console", "from evidence.bundle import Bundle\nfrom reports import daily"),
        ("evidence", "from reports.emissions import hourly"),
        ("ops", "from storage import migrate"),
        ("cli", "from console import app\nfrom ops import installer"),
        ("storage", "from importlib import resources"),
        ("rules", "from datetime import datetime\nx = datetime.fromisoformat('2026-10-01')"),
        ("rules", "from pathlib import PurePosixPath\nx = PurePosixPath('a') / 'b'"),
        ("protocol", "x = moment.timestamp()"),
    ],
)
def test_checker_accepts_the_declared_direction(package: str, source: str) -> None:
    assert violations(package, source) == []
