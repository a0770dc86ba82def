"""Imports inside streamkit point one way, and none goes round in a cycle (lazy imports included).

The packages are layered, bottom first (a module may import its own layer and the
layers below it, never one above):

0. ``errors``, ``_typing`` — names every layer uses
   then ``display`` — diagrams and notebook HTML from plain data (imports no other layer)
1. ``status``, ``_tuning``, ``_memory`` — status codes and indices; the process's tuning; memory kept for reuse
   then ``executor`` — seed 000's events and executor, on the status index
2. ``_arrow`` — casts, buffer views, type unification, tables
3. ``record``, ``config`` — the record a transform sees; the validated config
4. ``expr`` — inline code → IR → kernel source
5. ``fsm`` — compiled networks and the execution of one batch
6. ``io`` — sources and sinks
7. ``engine`` — chunks, streams, in-memory runs, results
8. ``api``, ``async_api``, ``warm`` — ``SimpleFSM``, ``AsyncSimpleFSM``; compiling ahead of time
9. ``streamkit`` itself (``__init__``: re-exports; ``__main__``: the command line)

Every ``import`` counts: at the top, inside functions, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

import streamkit

ROOT = Path(streamkit.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("streamkit.errors", "streamkit._typing", "streamkit._owner"),
    ("streamkit.display",),
    ("streamkit.status", "streamkit._tuning", "streamkit._memory", "streamkit.handle"),
    ("streamkit.executor",),
    ("streamkit._arrow",),
    ("streamkit.events",),
    ("streamkit.record", "streamkit.config"),
    ("streamkit.expr",),
    ("streamkit.fsm",),
    ("streamkit.io",),
    ("streamkit.engine",),
    ("streamkit.api", "streamkit.async_api", "streamkit.warm"),
    ("streamkit.runtime",),
    ("streamkit.submit",),
    ("streamkit",),
)


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Module name → file, for every module of the package at ``root`` (packages as their ``__init__``)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join([package, *parts])] = path
    return out


def imports_of(path: Path, modules: Iterable[str]) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``path`` of one of ``modules``.

    ``from a import b`` counts as ``a.b`` when that is a module.
    """
    known = set(modules)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                pytest.fail(f"{path}:{node.lineno}: relative import")
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if sub in known:
                    found.append((node.lineno, sub))
                elif node.module in known:
                    found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> int:
    """The layer of a module: that of the longest unit name it is or lies under."""
    best, at = -1, -1
    for i, units in enumerate(LAYERS):
        for u in units:
            if (module == u or module.startswith(u + ".")) and len(u) > best:
                best, at = len(u), i
    if at < 0:
        pytest.fail(f"module {module} is in no layer: add it to LAYERS in {__file__}")
    return at


def import_graph(root: Path, package: str) -> dict[str, dict[str, int]]:
    """Module → {imported module: line}, within the package."""
    files = module_files(root, package)
    return {m: {name: line for line, name in imports_of(p, files) if name != m} for m, p in files.items()}


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (the first repeated at the end), or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in graph.get(m, {}):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph(ROOT, "streamkit"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_points_up() -> None:
    graph = import_graph(ROOT, "streamkit")
    files = module_files(ROOT, "streamkit")
    upward = [
        f"{files[m].relative_to(ROOT.parent)}:{line}: {m} (layer {layer_of(m)}) imports {n} (layer {layer_of(n)})"
        for m, names in graph.items()
        for n, line in names.items()
        if layer_of(n) > layer_of(m)
    ]
    assert not upward, "imports that point up:\n" + "\n".join(upward)


def test_every_module_has_a_layer() -> None:
    for m in module_files(ROOT, "streamkit"):
        layer_of(m)


def test_the_checks_would_notice(tmp_path: Path) -> None:
    pkg = tmp_path / "streamkit"
    (pkg / "fsm").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "fsm" / "__init__.py").write_text("")
    (pkg / "fsm" / "a.py").write_text("def f():\n    from streamkit.engine import run\n")
    (pkg / "engine.py").write_text("from streamkit.fsm import a\nrun = 1\n")
    graph = import_graph(pkg, "streamkit")
    assert graph["streamkit.fsm.a"] == {"streamkit.engine": 2}
    assert find_cycle(graph) == ["streamkit.engine", "streamkit.fsm.a", "streamkit.engine"]
    assert layer_of("streamkit.engine") > layer_of("streamkit.fsm.a")
