"""``engine="ray"``: files as Ray tasks and Ray Datasets through ``map_batches``, against local runs.

One Ray instance (``num_cpus=2``) serves the module; the tests are skipped when
Ray is not installed (``pip install 'streamkit[ray]'``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from streamkit import SimpleFSM
from streamkit.events import EventBase

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'streamkit[ray]')")

pytestmark = [
    pytest.mark.ray,
    # Ray Data's own settings warn of their deprecations when it reads them
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """A local Ray instance on two cores for this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def _records(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "value": None if i % 17 == 0 else (i * 7919) % 100_000 - 500, "category": f"cat_{i % 5}"}
        for i in range(n)
    ]


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _fsm(transform: str = "lambda state: {'id': state.data['id'], 'v': state.data['value'] * 2}") -> SimpleFSM:
    return SimpleFSM(
        {
            "networks": [
                {
                    "name": "main",
                    "states": [
                        {"name": "in", "is_start": True, "functions": {"transform": transform}},
                        {"name": "big", "is_end": True},
                        {"name": "small", "is_end": True},
                    ],
                    "arcs": [
                        {"from": "in", "to": "big", "condition": "lambda state: state.data['v'] >= 1000"},
                        {"from": "in", "to": "small"},
                    ],
                }
            ]
        }
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_files_as_tasks_match_a_local_run(ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamkit.engine import ray_files

    src = _write_jsonl(tmp_path / "in.jsonl", _records(3000))
    monkeypatch.setattr(ray_files, "SLICE_BYTES", 20_000)  # several byte ranges, several tasks
    assert len(ray_files.plan_slices(str(src), None)) > 3
    fsm = _fsm()
    (tmp_path / "ray").mkdir()
    (tmp_path / "local").mkdir()
    seen: list[int] = []
    r = fsm.process_stream(
        str(src),
        sinks={"big": str(tmp_path / "ray" / "big.jsonl"), "small": str(tmp_path / "ray" / "small.jsonl")},
        engine="ray",
        chunk_size=250,
        on_progress=lambda p: seen.append(p.records_processed),
    )
    local = fsm.process_stream(
        str(src),
        sinks={"big": str(tmp_path / "local" / "big.jsonl"), "small": str(tmp_path / "local" / "small.jsonl")},
        chunk_size=250,
    )
    assert (r.total_records, r.successful, r.failed, r.end_state_counts) == (
        local.total_records,
        local.successful,
        local.failed,
        local.end_state_counts,
    )
    assert r.failed == 3000 // 17 + 1
    assert (r.status == local.status).all()
    for name in ("big.jsonl", "small.jsonl", "big.errors.jsonl"):
        assert _lines(tmp_path / "ray" / name) == _lines(tmp_path / "local" / name), name
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == ["big.errors.jsonl", "big.jsonl", "small.jsonl"]
    assert seen and seen[-1] == 3000


def test_parquet_row_groups_into_memory(ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    from streamkit.engine import ray_files

    table = pa.Table.from_pylist(_records(2000))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=300)
    monkeypatch.setattr(ray_files, "SLICE_BYTES", 1)  # a task per row group
    fsm = _fsm()
    r = fsm.process_stream(str(tmp_path / "in.parquet"), engine="ray")
    local = fsm.process(table)
    for state in ("big", "small"):
        assert r.output(state).equals(local.output(state))
    assert r.errors().column("_row").to_pylist() == local.errors().column("_row").to_pylist()


def test_a_dying_worker_fails_its_slice_and_the_counts_add_up(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamkit.engine import ray_files

    src = _write_jsonl(tmp_path / "in.jsonl", _records(1000))
    monkeypatch.setattr(ray_files, "SLICE_BYTES", 20_000)
    monkeypatch.setattr(ray_files, "MAX_RETRIES", 1)
    # record 700 kills the worker that runs it, every time: its slice is retried, then failed record by record
    fsm = _fsm("lambda state: __import__('os')._exit(3) if state.data['id'] == 700 else {'v': state.data['value'] * 2}")
    r = fsm.process_stream(str(src), sink=str(tmp_path / "out.jsonl"), engine="ray")
    assert r.total_records == 1000
    assert r.successful + r.failed == 1000
    errors = [json.loads(x) for x in _lines(tmp_path / "out.errors.jsonl")]
    lost = [e for e in errors if e["error_state"] == "<ray>"]
    assert 0 < len(lost) < 1000
    assert 700 in {e["_row"] for e in lost}
    assert sum(1 for _ in _lines(tmp_path / "out.jsonl")) + len(errors) == 1000
    assert len(errors) == r.failed


def test_a_dataset_gives_datasets(ray_cluster: Any) -> None:
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    table = pa.Table.from_pylist(_records(2000))
    fsm = _fsm()
    r = fsm.process_stream(ray.data.from_arrow(table).repartition(4), engine="ray")
    big = r.output("big")
    assert isinstance(big, ray.data.Dataset)
    local = fsm.process(table)
    assert (r.total_records, r.successful, r.failed, r.end_state_counts) == (
        local.total_records,
        local.successful,
        local.failed,
        local.end_state_counts,
    )
    got = pa.concat_tables(ray.get(big.to_arrow_refs())).sort_by("_row")
    assert got.equals(local.output("big"))
    assert r.errors().count() == local.failed
    # streamkit's outputs compose with the rest of a Ray Data job
    from ray.data.expressions import col

    assert r.output("small").filter(expr=col("v") < 0).count() == sum(
        1 for v in local.output("small").column("v").to_pylist() if v < 0
    )


def test_ray_only_takes_files_and_datasets(ray_cluster: Any) -> None:
    with pytest.raises(TypeError, match=r"^engine='ray' reads a `ray.data.Dataset` or files"):
        _fsm().process_stream([{"id": 1, "value": 2}], engine="ray")
    with pytest.raises(ValueError, match=r"^`engine` must be 'local' or 'ray', got 'spark'$"):
        _fsm().process_stream([{"id": 1, "value": 2}], engine="spark")  # type: ignore[typeddict-item]


class Charge(EventBase):
    """An I/O-bound step on a thread pool, with retries: it runs in the Ray workers, inside each task."""

    executor = ThreadPoolExecutor
    executor_config = {"max_workers": 4}
    retry_policy = {"max_attempts": 2, "backoff_factor": 0.0}

    def process(self, value: Any, record: Any) -> tuple[bool, Any]:
        if value is None:
            msg = "no value"
            raise ValueError(msg)
        return (value < 50_000), {"charged": value * 2}


def test_event_states_run_in_the_tasks(ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamkit.engine import ray_files

    src = _write_jsonl(tmp_path / "in.jsonl", _records(1200))
    monkeypatch.setattr(ray_files, "SLICE_BYTES", 20_000)
    config = {
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "start", "is_start": True},
                    {"name": "charge", "event": Charge},
                    {"name": "ok", "is_end": True},
                    {"name": "declined", "is_end": True},
                ],
                "arcs": [
                    {"from": "start", "to": "charge"},
                    {"from": "charge", "to": "ok", "on": "success"},
                    {"from": "charge", "to": "declined", "on": "failure"},
                ],
            }
        ]
    }
    # workers import the classes a config names; this test module is not importable there, so it goes by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        fsm = SimpleFSM(config)
        r = fsm.process_stream(str(src), engine="ray")
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    local = fsm.process_stream(str(src))
    assert (r.successful, r.failed, r.end_state_counts, r.retries) == (
        local.successful,
        local.failed,
        local.end_state_counts,
        local.retries,
    )
    assert r.retries == {"charge": 1200 // 17 + 1}
    for state in ("ok", "declined"):
        assert r.output(state).equals(local.output(state))


def test_a_handle_runs_on_ray(ray_cluster: Any, tmp_path: Path) -> None:
    src = _write_jsonl(tmp_path / "in.jsonl", _records(500))
    handle = _fsm().start_stream(str(src), sink=str(tmp_path / "out.jsonl"), engine="ray")
    assert handle.wait(60)
    result = handle.result
    assert result is not None
    assert result.total_records == 500 and result.successful + result.failed == 500
    assert len(_lines(tmp_path / "out.jsonl")) == result.successful
