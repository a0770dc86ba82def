"""What the Ray engine's driver and workers share: the import of Ray, and networks rebuilt from their config.

Ray is imported here, lazily, only when a run asks for ``engine="ray"``: nothing
else in streamkit imports it. A compiled network travels to workers as a
:class:`NetworkSpec` — its config and compile options, plus the kernel cache
directory — and each worker process rebuilds it once (:func:`stage_of`): the
generated kernels then load from the cache (~3 ms each) instead of compiling.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.engine.chunks import Stage
from streamkit.fsm.compile import CompiledNetwork

__all__ = (
    "KEEP_NETWORKS",
    "NetworkSpec",
    "RAY_ERROR_STATE",
    "import_ray",
    "ensure_ray",
    "failed_rows",
    "specs_of",
    "stage_of",
)

#: ``error_state`` of records whose task (or batch) failed for good, not a record's own error.
RAY_ERROR_STATE = "<ray>"

_INSTALL = "pip install 'streamkit[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, or an ``ImportError`` that says how to install it."""
    try:
        import ray
    except ImportError:
        msg = f"engine='ray' needs Ray, which is not installed\n\nHint: {_INSTALL}"
        raise ImportError(msg) from None
    return ray


def ensure_ray() -> Any:
    """The ``ray`` module, connected: ``ray.init()`` unless the process already is.

    ``ray.init()`` joins the cluster ``RAY_ADDRESS`` names, or starts a local one
    on this machine's cores. Call ``ray.init(...)`` yourself first for anything
    else (``num_cpus``, a runtime environment).
    """
    ray = import_ray()
    if not ray.is_initialized():
        ray.init(log_to_driver=False)
    return ray


@dataclass(frozen=True)
class NetworkSpec:
    """A stage as workers rebuild it: config, compile options, kernel cache; ``token`` names it per run."""

    config: Any
    allow_python: bool
    max_steps: int
    name: str
    parallelism: int | None
    cache_dir: str | None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def specs_of(stages: list[Stage]) -> list[NetworkSpec]:
    """The specs of ``stages``, made on the driver."""
    cache = os.environ.get("STREAMKIT_CACHE_DIR")
    if cache is None:
        from streamkit.fsm.kernel_cache import cache_dir

        cache = str(cache_dir())
    return [
        NetworkSpec(s.network.config, s.network.allow_python, s.network.max_steps, s.name, s.parallelism, cache)
        for s in stages
    ]


_networks: dict[str, CompiledNetwork] = {}
_lock = threading.Lock()
#: Networks a worker process keeps (the runs it served last); an older one goes, its event pools stopped.
KEEP_NETWORKS = 4


def stage_of(spec: NetworkSpec) -> Stage:
    """The stage of ``spec`` in this worker process: its network is rebuilt once a run and process, then reused.

    An event's process pool lives with its network, so the pools of a run's events
    stay up from task to task of the run; they are stopped when the network is
    dropped for those of later runs (:data:`KEEP_NETWORKS`), or with the worker.
    """
    with _lock:
        net = _networks.pop(spec.token, None)
        if net is None:
            if spec.cache_dir is not None and os.path.isdir(spec.cache_dir):
                os.environ.setdefault("STREAMKIT_CACHE_DIR", spec.cache_dir)
            net = CompiledNetwork(spec.config, allow_python=spec.allow_python, max_steps=spec.max_steps)
        _networks[spec.token] = net  # the most recently used last
        while len(_networks) > KEEP_NETWORKS:
            old = _networks.pop(next(iter(_networks)))
            old.event_pools.shutdown()
    return Stage(net, spec.name, spec.parallelism)


def failed_rows(batch: pa.RecordBatch | pa.Table, ids: np.ndarray, etype: str, message: str) -> pa.Table:
    """Records of ``batch`` (at stream positions ``ids``) as failed records: ``error_state`` :data:`RAY_ERROR_STATE`."""
    k = len(ids)
    data: dict[str, Any] = {
        "_row": pa.array(ids, pa.int64()),
        "error_state": pa.array([RAY_ERROR_STATE] * k, pa.string()),
        "error_type": pa.array([etype] * k, pa.string()),
        "error_message": pa.array([message] * k, pa.string()),
    }
    for name, col in zip(batch.schema.names, batch.columns):
        if name not in data:
            data[name] = col
    return pa.table(data)
