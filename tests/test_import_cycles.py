"""No import cycles inside a package, and no private names across modules (issue 16).

The graph has one node per module and an edge for every import of a sibling module,
wherever it is written: at the top, inside a function, or under ``TYPE_CHECKING``. An
import put at the bottom of a file or behind ``TYPE_CHECKING`` to dodge a cycle keeps
the two modules one knot; the cure is a third module or a protocol type.

A private name (``_x``, or a module ``_x``) belongs to its module, or, for a private
module, to its package: importing one from elsewhere reaches past the public API.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.test_layering import ALLOWED, FREE, ROOT, top_level_packages


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str]]:
    """(module, name) pairs an import names; name is "" for ``import a.b``."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, ""
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            here = module.split(".") if is_package else module.split(".")[:-1]
            here = here[: len(here) - node.level + 1]
            base = ".".join([*here, base] if base else here)
        for alias in node.names:
            yield base, alias.name


def graph(modules: Mapping[str, str]) -> dict[str, set[str]]:
    """Module -> the sibling modules it imports (``from p import m`` is module ``p.m``
    if there is one, else ``p`` itself)."""
    edges: dict[str, set[str]] = {}
    for module, source in modules.items():
        is_package = source.startswith("#package\n")
        out: set[str] = set()
        for node in ast.walk(ast.parse(source)):
            for base, name in _imported(node, module, is_package):
                if f"{base}.{name}" in modules:
                    out.add(f"{base}.{name}")
                elif base in modules:
                    out.add(base)
        edges[module] = out - {module}
    return edges


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def private_imports(modules: Mapping[str, str]) -> list[str]:
    """Imports of another module's private name, or of a private module of another
    top-level package."""
    found = []
    for module, source in modules.items():
        package = module.split(".")[0]
        for node in ast.walk(ast.parse(source)):
            for base, name in _imported(node, module, source.startswith("#package\n")):
                parts = [p for p in base.split(".") if p]
                private_module = any(_private(p) for p in parts) and parts[0] != package
                if private_module or (_private(name) and f"{base}.{name}" not in modules):
                    line = getattr(node, "lineno", 0)
                    found.append(f"{module}:{line}: {base} {name}".rstrip())
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def sources(package: str) -> dict[str, str]:
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        text = path.read_text("utf-8")
        out[_module(path)] = ("#package\n" + text) if path.name == "__init__.py" else text
    return out


def test_every_package_is_checked() -> None:
    assert top_level_packages() <= set(ALLOWED) | FREE


@pytest.mark.parametrize("package", sorted(set(ALLOWED) | FREE))
def test_no_import_cycle_inside_the_package(package: str) -> None:
    assert cycles(graph(sources(package))) == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_private_name_imported_across_modules(package: str) -> None:
    assert private_imports(sources(package)) == []


def test_finds_a_cycle_through_type_checking_and_a_late_import() -> None:
    modules = {
        "p": "#package\n",
        "p.a": "from p.b import B\n",
        "p.b": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.c import C\n",
        "p.c": "def f():\n    from p import a\n",
        "p.d": "from p import a\n",
    }
    assert cycles(graph(modules)) == [["p.a", "p.b", "p.c"]]


def test_finds_a_cycle_through_the_package_init_and_relative_imports() -> None:
    modules = {"p": "#package\nfrom p.x import X\n", "p.x": "from . import helper\n"}
    assert cycles(graph(modules)) == [["p", "p.x"]]
    assert cycles(graph({"p": "#package\n", "p.x": "import p.y\n", "p.y": ""})) == []


def test_finds_private_names() -> None:
    modules = {
        "s": "#package\n",
        "s.w": "from protocol._crc import modbus\nfrom s.v import _helper\n",
        "s.v": "from s import _impl\n",
        "s._impl": "",
    }
    assert private_imports(modules) == [
        "s.w:1: protocol._crc modbus",
        "s.w:2: s.v _helper",
    ]
