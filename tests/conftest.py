"""Shared fixtures: the repository root, the seed 002 network, a private kernel cache; hypothesis settings.

The repository root is on ``sys.path`` (``pythonpath = ["."]`` in pyproject), so
tests import the seed network as ``examples.seed_network``, exactly as the
examples and the README do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Kernels compile on first use (seconds on a cold cache), so a wall-clock deadline per
# example measures the cache, not the code: no test of this suite has one.
settings.register_profile("streamkit", deadline=None)
settings.load_profile("streamkit")

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top directory (where README.md and the Makefile are)."""
    return REPO_ROOT


@pytest.fixture
def seed_config() -> dict[str, Any]:
    """A fresh copy of the seed 002 ``StreamingProcessor`` config, exactly as the seed prints it."""
    from examples.seed_network import create_streaming_fsm_config

    return create_streaming_fsm_config()


@pytest.fixture
def kernel_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty ``STREAMKIT_CACHE_DIR`` for this test (kernels already loaded in this process stay loaded)."""
    path = tmp_path / "kernels"
    path.mkdir()
    monkeypatch.setenv("STREAMKIT_CACHE_DIR", str(path))
    yield path


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray instance on two cores for one test module (tests marked ``ray``); its address.

    Drivers in child processes join it with ``ray.init(address=...)``. Skipped
    when Ray is not installed (``pip install 'streamkit[ray]'``).
    """
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'streamkit[ray]')")
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()
