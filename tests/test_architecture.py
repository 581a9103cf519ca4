"""Tests of the package's shape: the Google side stands alone, and no import cycles.

The import graph is read from the source with ast. It counts every import
statement wherever it stands: at module level, inside functions and under
TYPE_CHECKING. An edge goes from a module to each module of the package it
imports: `from .x import y` to x, `from . import x` to x (a submodule), else to
the package itself. (Importing a submodule also runs its package's __init__;
that implicit step is not an edge, as in grimp and import-linter.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
import subprocess

import pytest
from ruff.__main__ import find_ruff_bin

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "custom_components.google_calendar_sync"
PACKAGE_DIR = ROOT / "custom_components" / "google_calendar_sync"
GOOGLE = f"{PACKAGE}.google"


def _module_name(path: Path) -> str:
    """Return the dotted name of a module of the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {
    _module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))
}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """Yield (absolute name, line) of everything a module of the package imports."""
    return _imports_in(
        MODULES[module].read_text(encoding="utf-8"), module, _is_package(module)
    )


def _imports_in(
    source: str, module: str, is_package: bool
) -> Iterator[tuple[str, int]]:
    """Yield (absolute name, line) of everything the source of module imports."""
    tree = ast.parse(source)
    base = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                target = f"{anchor}.{node.module}" if node.module else anchor
            else:
                target = node.module or ""
            for alias in node.names:
                yield f"{target}.{alias.name}", node.lineno


def _graph() -> dict[str, set[str]]:
    """Return module -> the modules of the package it imports."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for module in MODULES:
        for name, _ in _imports(module):
            # The longest known module the name starts with: x.y.Name -> x.y.
            target = name
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# Cycles known when this check landed, each to be broken by its owner; the test
# fails on any other cycle, and on a known one once it is gone (then drop it here).
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def test_the_package_has_no_import_cycle() -> None:
    """Every module can be understood from the modules below it."""
    assert {tuple(cycle) for cycle in _cycles(_graph())} == KNOWN_CYCLES


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above would fail on a cycle, however long, and on none else."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]
    ]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_imports_in_functions_and_type_checking() -> None:
    """Imports that run late, or never, still count; relative ones are resolved."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import store\n"
        "if TYPE_CHECKING:\n"
        "    from .coordinator import Coordinator\n"
        "def later() -> None:\n"
        "    from .google.model import parse_time\n"
    )
    names = {name for name, _ in _imports_in(source, f"{PACKAGE}.push", False)}
    assert names == {
        "typing.TYPE_CHECKING",
        f"{PACKAGE}.store",
        f"{PACKAGE}.coordinator.Coordinator",
        f"{PACKAGE}.google.model.parse_time",
    }
    assert f"{PACKAGE}.google.model" in _graph()[f"{PACKAGE}.google.timeline"]


def test_no_module_of_the_google_side_imports_home_assistant() -> None:
    """google/ could be published as a library as it is."""
    offenders = [
        f"{MODULES[module].relative_to(ROOT)}:{line}: {name}"
        for module in MODULES
        if module == GOOGLE or module.startswith(f"{GOOGLE}.")
        for name, line in _imports(module)
        if name == "homeassistant" or name.startswith("homeassistant.")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "statement",
    [
        "from homeassistant.core import HomeAssistant",
        "import homeassistant.util.dt as dt_util",
        "def later() -> None:\n    from homeassistant import core",
    ],
)
def test_lint_refuses_home_assistant_in_the_google_side(statement: str) -> None:
    """`ruff check` (scripts/lint, CI) fails on any homeassistant import in google/."""
    source = f'"""Probe."""\n\n{statement}  # noqa: F401\n'

    def lint(path: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own ruff, fixed arguments
            [
                find_ruff_bin(),
                "check",
                "--no-cache",
                "--select",
                "TID251",
                "--stdin-filename",
                path,
                "-",
            ],
            input=source,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )

    refused = lint("custom_components/google_calendar_sync/google/probe.py")
    assert refused.returncode == 1
    assert "TID251" in refused.stdout
    # The glue above may import Home Assistant.
    assert lint("custom_components/google_calendar_sync/probe.py").returncode == 0
