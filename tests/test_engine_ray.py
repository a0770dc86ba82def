"""``engine="ray"``: files as Ray tasks and Ray Datasets through ``map_batches``, against local runs.

Every file a Ray run writes is compared byte for byte with a local run's, and
its counts and statuses with the local run's. One Ray instance (``num_cpus=2``,
the ``ray_cluster`` fixture of ``conftest.py``) serves the module; drivers
killed with ``kill -9`` are child processes that join it. The tests are skipped when Ray is not installed (``pip install
'streamkit[ray]'``); ``make test`` installs it and runs them.
"""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from benchmarks.checkpoint_report import write_input
from examples.seed_network import create_streaming_fsm_config
from streamkit import SimpleFSM
from streamkit.events import EventBase
from tests.checkpoint_helpers import Stop, joined, stop_after, stop_after_commits
from tests.test_docs import RAY_BLOCKS

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'streamkit[ray]')")

pytestmark = [
    pytest.mark.ray,
    # Ray Data's own settings warn of their deprecations when it reads them
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ("total_records", "successful", "failed", "end_state_counts", "malformed", "chunks_processed")


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of ~20 kB: a small input runs as several tasks."""
    from streamkit.engine import ray_slices

    monkeypatch.setattr(ray_slices, "SLICE_BYTES", 20_000)


@pytest.fixture(scope="module")
def seed_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,006 seed records in JSON Lines with malformed lines and values of the wrong type (failed records)."""
    return write_input(tmp_path_factory.mktemp("input") / "in.jsonl", 20_000)


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


def _same_files(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def _counts(result: Any) -> dict[str, Any]:
    return {k: result[k] for k in COUNTS}


@pytest.mark.usefixtures("small_slices")
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_files_as_tasks_write_the_bytes_of_a_local_run(ray_cluster: str, seed_input: Path, tmp_path: Path, fmt: str):
    from streamkit.engine import ray_slices

    assert len(ray_slices.split_files([seed_input], ["jsonl"])[0].ranges) > 40  # a task per ~20 kB
    fsm = SimpleFSM(create_streaming_fsm_config())
    (tmp_path / "ray").mkdir()
    (tmp_path / "local").mkdir()
    seen: list[int] = []
    r = fsm.process_stream(
        str(seed_input),
        str(tmp_path / "ray" / f"out.{fmt}"),
        engine="ray",
        chunk_size=1000,
        on_progress=lambda p: seen.append(p.records_processed),
    )
    local = fsm.process_stream(str(seed_input), str(tmp_path / "local" / f"out.{fmt}"), chunk_size=1000)
    assert _same_files(tmp_path / "ray", tmp_path / "local")
    assert _counts(r) == _counts(local)
    assert r.failed == 12 and r.malformed == 6  # every record accounted for, the bad lines with their reasons
    assert (r.status == local.status).all()
    assert r.paths == {k: v.replace("/local/", "/ray/") for k, v in local.paths.items()}
    assert seen == sorted(seen) and seen[-1] == r.total_records


@pytest.mark.usefixtures("small_slices")
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_tasks_write_a_directory_s_parts_themselves(
    ray_cluster: str, seed_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """A directory sink on Ray: each task writes its slice's part; the driver renames it into place, never writes it."""
    import pyarrow.parquet as pq

    from streamkit.engine import ray_files
    from streamkit.io.dirsink import DirectorySink

    driver_writes: list[Any] = []
    write = ray_files._Driver._write
    monkeypatch.setattr(
        ray_files._Driver,
        "_write",
        lambda self, target, writes: (driver_writes.append(target), write(self, target, writes)),
    )
    fsm = SimpleFSM(create_streaming_fsm_config())
    suffix = {"jsonl": "jsonl", "parquet": "parquet"}[fmt]
    local = fsm.process_stream(str(seed_input), str(tmp_path / f"one.{suffix}"), chunk_size=1000)
    r = fsm.process_stream(str(seed_input), str(tmp_path / "out") + "/", engine="ray", chunk_size=1000, sink_format=fmt)
    parts = sorted((tmp_path / "out").iterdir())
    assert len(parts) > 5 and [p.name for p in parts] == [f"part-{k:06d}.{suffix}" for k in range(len(parts))]
    if fmt == "jsonl":
        assert joined(tmp_path / "out") == (tmp_path / "one.jsonl").read_bytes()
    else:
        assert pq.read_table(tmp_path / "out").equals(pq.read_table(tmp_path / "one.parquet"))
    assert (tmp_path / "out.errors.jsonl").read_bytes() == (tmp_path / "one.errors.jsonl").read_bytes()
    assert _counts(r) == _counts(local)
    assert driver_writes and not any(isinstance(t, DirectorySink) for t in driver_writes)  # only the failed records


@pytest.mark.usefixtures("small_slices")
def test_a_directory_sink_resumes_on_ray(
    ray_cluster: str, seed_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ray run with a directory sink stopped after its second commit; the same call ends it, the parts
    committed before kept as they are, and the parts joined are the file of an uninterrupted run."""
    fsm = SimpleFSM(create_streaming_fsm_config())
    plain = fsm.process_stream(str(seed_input), str(tmp_path / "one.jsonl"), chunk_size=1000)
    out, ckpt = str(tmp_path / "out") + "/", str(tmp_path / "run.ckpt")
    stop_after_commits(monkeypatch, 2)
    with pytest.raises(Stop):
        fsm.process_stream(str(seed_input), out, chunk_size=1000, checkpoint=ckpt, engine="ray")
    stop_after_commits(monkeypatch, None)
    state = json.loads(Path(ckpt).read_text())
    kept = {p.name: p.stat().st_ino for p in (tmp_path / "out").glob("part-*")}
    assert len(kept) == state["parts"][0] == 2

    resumed = fsm.process_stream(str(seed_input), out, chunk_size=1000, checkpoint=ckpt, engine="ray")
    assert joined(tmp_path / "out") == (tmp_path / "one.jsonl").read_bytes()
    assert {n: (tmp_path / "out" / n).stat().st_ino for n in kept} == kept
    assert _counts(resumed) == _counts(plain)
    assert not Path(ckpt).exists() and not Path(f"{ckpt}.parts").exists()


def test_several_files_and_formats_into_memory_and_callbacks(ray_cluster: str, tmp_path: Path, small_slices: None):
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_records(3000))
    pq.write_table(table.slice(0, 1700), tmp_path / "a.parquet", row_group_size=300)
    _write_jsonl(tmp_path / "b.jsonl", table.slice(1700).to_pylist())
    (tmp_path / "c.jsonl").write_bytes(b"")  # an empty file: no records, no chunk
    sources = [str(tmp_path / "a.parquet"), str(tmp_path / "b.jsonl"), str(tmp_path / "c.jsonl")]
    fsm = _fsm()
    got: list[pa.RecordBatch] = []
    r = fsm.process_stream(sources, sinks={"big": got.append}, engine="ray", chunk_size=250)
    local = fsm.process_stream(sources, chunk_size=250)
    assert _counts(r) == _counts(local)
    assert pa.Table.from_batches(got).equals(local.output("big"))  # a callback runs on the driver, in order
    assert r.output("small").equals(local.output("small"))
    assert r.errors().equals(local.errors())


def test_a_dying_worker_fails_its_slice_and_the_counts_add_up(
    ray_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_slices: None
) -> None:
    from streamkit.engine import ray_files

    src = _write_jsonl(tmp_path / "in.jsonl", _records(1000))
    monkeypatch.setattr(ray_files, "MAX_RETRIES", 1)
    # record 700 kills the worker that runs it, every time: its slice is retried, then failed record by record
    fsm = _fsm("lambda state: __import__('os')._exit(3) if state.data['id'] == 700 else {'v': state.data['value'] * 2}")
    r = fsm.process_stream(str(src), sink=str(tmp_path / "out.jsonl"), engine="ray", chunk_size=100)
    assert r.total_records == 1000
    assert r.successful + r.failed == 1000
    errors = [json.loads(x) for x in _lines(tmp_path / "out.errors.jsonl")]
    lost = [e for e in errors if e["error_state"] == "<ray>"]
    assert 0 < len(lost) < 1000 and len(lost) % 100 == 0  # whole chunks of the dead slice
    assert 700 in {e["_row"] for e in lost}
    assert lost[0]["error_type"] in ("WorkerCrashedError", "RaySystemError") and lost[0]["id"] == lost[0]["_row"]
    assert len(_lines(tmp_path / "out.jsonl")) + len(errors) == 1000
    assert len(errors) == r.failed
    assert [e["_row"] for e in errors] == sorted(e["_row"] for e in errors)


def test_a_dataset_gives_datasets(ray_cluster: str) -> None:
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


def test_ray_only_takes_files_and_datasets(ray_cluster: str, tmp_path: Path) -> None:
    import ray.data

    with pytest.raises(TypeError, match=r"^engine='ray' reads a `ray.data.Dataset` or files"):
        _fsm().process_stream([{"id": 1, "value": 2}], engine="ray")
    with pytest.raises(ValueError, match=r"^`engine` must be 'local' or 'ray', got 'spark'$"):
        _fsm().process_stream([{"id": 1, "value": 2}], engine="spark")  # type: ignore[typeddict-item]
    ds = ray.data.from_items([{"id": 1, "value": 2}])
    for kwargs in ({"sink": str(tmp_path / "out.jsonl")}, {"checkpoint": str(tmp_path / "run.ckpt")}):
        with pytest.raises(TypeError, match=r"^engine='ray' with a Dataset source gives Datasets back; `\w+` is not"):
            _fsm().process_stream(ds, engine="ray", **kwargs)
    src = _write_jsonl(tmp_path / "in.jsonl", _records(10))
    with pytest.raises(ValueError, match=r"`keep_end_state_ids` must be False or None, got True$"):
        _fsm().process_stream(str(src), engine="ray", keep_end_state_ids=True)


def test_a_pipeline_runs_every_stage_in_each_task(ray_cluster: str, seed_input: Path, small_slices: None) -> None:
    from examples.seed_network import create_data_cleaner_config

    pipeline = SimpleFSM(create_data_cleaner_config()) | SimpleFSM(create_streaming_fsm_config())
    r = pipeline.process_stream(str(seed_input), engine="ray", chunk_size=2000)
    local = pipeline.process_stream(str(seed_input), chunk_size=2000)
    assert _counts(r) == _counts(local)
    for state in r.end_states:
        assert r.output(state).equals(local.output(state))
    assert r.errors().equals(local.errors())


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


def test_event_states_run_in_the_tasks(ray_cluster: str, tmp_path: Path, small_slices: None) -> None:
    src = _write_jsonl(tmp_path / "in.jsonl", _records(1200))
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
        r = fsm.process_stream(str(src), engine="ray", chunk_size=100)
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    local = fsm.process_stream(str(src), chunk_size=100)
    assert (r.successful, r.failed, r.end_state_counts, r.retries) == (
        local.successful,
        local.failed,
        local.end_state_counts,
        local.retries,
    )
    assert r.retries == {"charge": 1200 // 17 + 1}
    for state in ("ok", "declined"):
        assert r.output(state).equals(local.output(state))


def test_a_process_pool_event_runs_in_the_tasks(ray_cluster: str, tmp_path: Path, small_slices: None) -> None:
    """Each task's worker runs the event's process pool (``forkserver`` processes), kept from task to task."""
    from tests.events_fixtures import Spin
    from tests.test_events_network import charge_net

    src = _write_jsonl(tmp_path / "in.jsonl", [{"n": k % 300} for k in range(600)])
    fsm = SimpleFSM(charge_net(Spin))
    try:
        r = fsm.process_stream(str(src), engine="ray", chunk_size=100)
        local = fsm.process_stream(str(src), chunk_size=100)
    finally:
        fsm.network.event_pools.shutdown()
    assert _counts(r) == _counts(local) and r.successful == 600
    assert r.output("ok").equals(local.output("ok"))


def test_a_handle_runs_on_ray(ray_cluster: str, tmp_path: Path) -> None:
    src = _write_jsonl(tmp_path / "in.jsonl", _records(500))
    handle = _fsm().start_stream(str(src), sink=str(tmp_path / "out.jsonl"), engine="ray")
    assert handle.wait(60)
    result = handle.result
    assert result is not None
    assert result.total_records == 500 and result.successful + result.failed == 500
    assert len(_lines(tmp_path / "out.jsonl")) == result.successful


# -- checkpoints ---------------------------------------------------------------------------------------
@pytest.mark.usefixtures("small_slices")
def test_a_checkpoint_moves_between_engines(
    ray_cluster: str, seed_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local run stopped after 3 chunks resumes on Ray, which stops after 2 slices; a local run ends it."""
    lines = seed_input.read_bytes().splitlines(keepends=True)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + b"".join(lines[:7_000]) + b"\n \n")
    (tmp_path / "in" / "b.jsonl").write_bytes(b"".join(lines[7_000:]))
    src = str(tmp_path / "in" / "*.jsonl")
    fsm = SimpleFSM(create_streaming_fsm_config())
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    out, ckpt = str(tmp_path / "ckpt" / "out.parquet"), str(tmp_path / "run.ckpt")
    plain = fsm.process_stream(src, str(tmp_path / "plain" / "out.parquet"), chunk_size=1000)

    stop_after(monkeypatch, 3)
    with pytest.raises(Stop):
        fsm.process_stream(src, out, chunk_size=1000, checkpoint=ckpt)
    stop_after(monkeypatch, None)
    assert json.loads(Path(ckpt).read_text())["chunks"] == 3

    commits = stop_after_commits(monkeypatch, 2)
    with pytest.raises(Stop):
        fsm.process_stream(src, out, chunk_size=1000, checkpoint=ckpt, engine="ray")
    stop_after_commits(monkeypatch, None)
    state = json.loads(Path(ckpt).read_text())
    assert 3 < state["chunks"] == commits[-1] < 21 and state["source_at"]["byte"] > 0
    assert not (tmp_path / "ckpt" / "out.parquet").exists()

    resumed = fsm.process_stream(src, out, chunk_size=1000, checkpoint=ckpt)
    assert _same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert _counts(resumed) == _counts(plain)
    assert not Path(ckpt).exists() and not Path(f"{ckpt}.parts").exists()


DRIVER = """
import json, os, sys, time
sys.path.insert(0, {root!r})
import ray
ray.init(address={address!r}, log_to_driver=False)
import streamkit.engine.ray_slices as rs
import streamkit.io.partfiles as pf
from examples.seed_network import create_streaming_fsm_config
from streamkit import SimpleFSM
rs.SLICE_BYTES = 20_000
import streamkit.io.dirsink as ds
kill = {kill!r}
if kill == "slow":  # each part written (or renamed into place) 50 ms after the last: killed among them
    write, adopt = pf.PartSink._write_encoded, ds.DirectorySink.adopt
    def slow_write(self, data):
        write(self, data)
        time.sleep(0.05)
    def slow_adopt(self, pending, rows):
        time.sleep(0.05)
        return adopt(self, pending, rows)
    pf.PartSink._write_encoded = slow_write
    ds.DirectorySink.adopt = slow_adopt
fsm = SimpleFSM(create_streaming_fsm_config())
r = fsm.process_stream({src!r}, {out!r}, checkpoint={ckpt!r}, chunk_size=1000, engine="ray")
print(json.dumps({{k: r[k] for k in {keys!r}}}))
"""


@pytest.mark.parametrize("target", ["out.jsonl", "out/"])
def test_kill_9_of_the_driver_then_the_same_call(
    ray_cluster: str, seed_input: Path, tmp_path: Path, target: str
) -> None:
    """A driver killed from outside while it writes and commits slices (to a file, or a directory whose parts
    the tasks write); the same call then ends the run with the bytes of an uninterrupted local run.
    (A run stopped while it joins the parts: ``test_checkpoint.py``.)"""
    fsm = SimpleFSM(create_streaming_fsm_config())
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    plain = fsm.process_stream(str(seed_input), str(tmp_path / "plain" / "out.jsonl"), chunk_size=1000)
    ckpt = tmp_path / "run.ckpt"

    def driver(kill: str) -> subprocess.Popen[str]:
        code = DRIVER.format(
            root=str(ROOT),
            address=ray_cluster,
            kill=kill,
            src=str(seed_input),
            out=str(tmp_path / "ckpt") + "/" + target,
            ckpt=str(ckpt),
            keys=COUNTS,
        )
        return subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def committed() -> int:
        try:
            return int(json.loads(ckpt.read_text())["chunks"])
        except (OSError, ValueError):
            return 0

    # killed from outside while it writes the slices' parts and commits them
    proc = driver("slow")
    deadline = time.monotonic() + 60
    while committed() < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]
    assert 3 <= committed() < 21

    proc = driver("")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1]) == json.loads(json.dumps(_counts(plain)))
    if target.endswith("/"):  # the parts joined are the file
        assert joined(tmp_path / "ckpt" / "out") == (tmp_path / "plain" / "out.jsonl").read_bytes()
        assert (tmp_path / "ckpt" / "out.errors.jsonl").read_bytes() == (
            tmp_path / "plain" / "out.errors.jsonl"
        ).read_bytes()
    else:
        assert _same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert not ckpt.exists() and not Path(f"{ckpt}.parts").exists()


@pytest.mark.parametrize(("page", "line", "code"), RAY_BLOCKS, ids=[f"{p.name}:{n}" for p, n, _ in RAY_BLOCKS])
def test_the_guide_examples_that_need_ray(
    ray_cluster: str, page: Path, line: int, code: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The guide's blocks fenced ```python ray (``tests/test_docs.py`` runs the others), as a user pastes them."""
    monkeypatch.chdir(ROOT)
    compiled = compile("\n" * line + code, str(page), "exec")  # padded: tracebacks give the page's lines
    exec(compiled, {"__name__": f"docs_block_{page.stem}_{line}"})
    capsys.readouterr()
