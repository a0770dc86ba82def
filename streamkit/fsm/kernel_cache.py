"""Compile generated kernel source once per machine: an on-disk cache keyed by its hash.

numba cannot cache functions built with ``exec`` ("no locator available"), so
the source is written to ``<cache>/sk_<sha256>.py`` (atomic rename) and imported
from there; ``cache=True`` then stores the machine code beside it, and a second
process loads it in ~3 ms instead of compiling (~130 ms; DESIGN.md §10).

Generating the source costs time too (5-12 ms a kernel, a third of a first
call's fixed cost), so :func:`kernel_source` keeps what the code generator made
for a state and the kinds of its input, keyed by the states' IR, the kinds and
a hash of the generator's own code, in ``<cache>/plan_<sha256>.pkl``.

The cache directory is ``$STREAMKIT_CACHE_DIR`` or ``~/.cache/streamkit/kernels``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

import kernels
from streamkit.expr.kernel import StateCode, generate_kernel
from streamkit.expr.layout import StateKernelSource

__all__ = ("cache_dir", "kernel_source", "load_kernel")

_lock = threading.Lock()
_loaded: dict[str, Callable[..., Any]] = {}


def _helpers_fingerprint() -> str:
    """Hash of the helper kernels the generated code calls (a change invalidates the cache)."""
    root = Path(kernels.__file__).parent
    h = hashlib.sha256(numba.__version__.encode())
    for name in ("arith.py", "text.py", "textnum.py", "_bytes.py", "_jit.py"):
        h.update((root / name).read_bytes())
    return h.hexdigest()


_FINGERPRINT = _helpers_fingerprint()


def _ready_numba() -> None:
    """Set numba's CPU target up now rather than in the first kernel call.

    numba builds its typing and lowering registries (~0.17 s) the first time any
    compiled function runs or loads from a cache; done at import, as polars and
    pyarrow set themselves up, a first run costs what the next one does (a first
    stream was 0.25 s slower than the second for it). Typing an array the first
    time also imports ``numpy.ma`` (~11 ms), so one array is typed here too. It
    changes nothing outside numba.
    """
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
        numba.typeof(np.empty(1, np.int64))
    except (ImportError, AttributeError):  # another numba: the first kernel call does it
        pass


_ready_numba()

# The helper modules generated kernels call, imported with the cache rather than by the first
# kernel (their numba dispatchers take ~15 ms to create; the flights network's first plan waited
# on them). Nothing is compiled or loaded: a helper loads with the first kernel that calls it.
import kernels.arith  # noqa: E402
import kernels.text  # noqa: E402
import kernels.textnum  # noqa: E402


def cache_dir() -> Path:
    """Where generated kernels and their machine code are kept."""
    env = os.environ.get("STREAMKIT_CACHE_DIR")
    path = Path(env) if env else Path.home() / ".cache" / "streamkit" / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def _generator_fingerprint() -> str:
    """Hash of the code generator's sources and the helpers (a change makes every kept source stale)."""
    h = hashlib.sha256(_FINGERPRINT.encode())
    root = Path(__file__).resolve().parent.parent / "expr"
    for path in sorted(root.glob("**/*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


_sources: dict[str, StateKernelSource] = {}


def kernel_source(states: dict[str, StateCode], root: str, kinds: dict[str, str]) -> StateKernelSource:
    """:func:`~streamkit.expr.kernel.generate_kernel` for these states and input kinds, kept on disk.

    Raises what ``generate_kernel`` raises (nothing is kept for code outside the compiled subset).
    """
    text = repr((sorted(states.items()), root, sorted(kinds.items()), _generator_fingerprint()))
    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    src = _sources.get(key)
    if src is not None:
        return src
    path = cache_dir() / f"plan_{key}.pkl"
    try:
        with path.open("rb") as f:
            src = pickle.load(f)  # our own cache, beside the kernels it imports
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        src = None
    if not isinstance(src, StateKernelSource):
        src = generate_kernel(states, root, kinds)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(src, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    _sources[key] = src
    return src


def load_kernel(source: str, name: str = "kernel") -> Callable[..., Any]:
    """The numba function ``name`` defined by ``source``, from the cache when possible."""
    key = hashlib.sha256((source + _FINGERPRINT).encode()).hexdigest()[:32]
    fn = _loaded.get(key)
    if fn is not None:
        return fn
    with _lock:
        fn = _loaded.get(key)
        if fn is not None:
            return fn
        d = cache_dir()
        path = d / f"sk_{key}.py"
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=d, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(source)
            os.replace(tmp, path)
        modname = f"streamkit_kernel_{key}"
        spec = importlib.util.spec_from_file_location(modname, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
        fn = getattr(module, name)
        _loaded[key] = fn
        return fn
