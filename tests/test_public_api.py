"""The public API: what ``streamkit.__all__`` promises exists, is documented, and comes from streamkit.

Also the layering rule of DESIGN.md §1: ``kernels`` (pure numba) never imports
``streamkit``; the dependency goes one way only.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import kernels
import streamkit

PUBLIC = list(streamkit.__all__)


def test_all_is_a_tuple_of_unique_names() -> None:
    assert isinstance(streamkit.__all__, tuple)
    assert len(set(PUBLIC)) == len(PUBLIC)
    assert all(isinstance(name, str) and name and not name.startswith("_") for name in PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_exists_and_is_documented(name: str) -> None:
    obj = getattr(streamkit, name)
    assert obj is not None
    exec(f"from streamkit import {name}", {})
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"streamkit.{name} has no docstring"
    module = getattr(obj, "__module__", "") or ""
    assert module == "streamkit" or module.startswith("streamkit."), f"streamkit.{name} comes from {module!r}"


def test_public_classes_and_functions_are_all_exported() -> None:
    """Nothing public is reachable from ``streamkit`` without being in ``__all__``."""
    exported = {
        name
        for name, obj in vars(streamkit).items()
        if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
    }
    assert exported <= set(PUBLIC), f"public but not in __all__: {sorted(exported - set(PUBLIC))}"


def _modules(package: object) -> list[str]:
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [package.__name__] + [m.name for m in pkgutil.walk_packages(path, prefix)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("module_name", _modules(streamkit) + _modules(kernels))
def test_every_module_all_matches_what_it_defines(module_name: str) -> None:
    """Both ways: ``__all__`` names only what exists, and every public class or function the
    module defines is in its ``__all__`` (anyio's ``test_all_attributes``)."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} has no __all__"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{module_name}.__all__ names undefined {missing}"
    assert len(set(names)) == len(names), f"{module_name}.__all__ has duplicates"
    defined = [
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module_name
    ]
    unlisted = sorted(set(defined) - set(names))
    assert not unlisted, f"{module_name} defines public {unlisted} but leaves them out of __all__"


def test_module_docstrings() -> None:
    undocumented = [
        name
        for name in _modules(streamkit) + _modules(kernels)
        if not (importlib.import_module(name).__doc__ or "").strip()
    ]
    assert not undocumented, f"modules without a docstring: {undocumented}"


def test_version() -> None:
    assert isinstance(streamkit.__version__, str) and streamkit.__version__.count(".") >= 1


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an ``import`` / ``from ... import`` in ``path`` names, with its line (also nested, lazy ones)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_kernels_never_import_streamkit() -> None:
    root = Path(kernels.__file__).parent
    sources = sorted(root.rglob("*.py"))
    assert sources, "no kernel sources found"
    offenders = [
        f"{path.relative_to(root.parent)}:{line}: {name}"
        for path in sources
        for line, name in _imported_modules(path)
        if name == "streamkit" or name.startswith("streamkit.")
    ]
    assert not offenders, "kernels/ must not import streamkit:\n" + "\n".join(offenders)


def test_the_import_scan_would_notice(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\ndef f():\n    from streamkit.fsm import compile\n    import streamkit as s\n")
    assert [name for _, name in _imported_modules(probe)] == ["os", "streamkit.fsm", "streamkit"]
