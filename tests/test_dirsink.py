"""Directory sinks (``sink="out/"``): numbered parts that hold, in order, what one file sink holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamkit.io.dirsink as dirsink
from benchmarks.checkpoint_report import write_input
from examples.seed_network import create_streaming_fsm_config
from streamkit import SimpleFSM
from streamkit.io import open_sink, open_source
from streamkit.io.dirsink import DirectorySink
from tests.checkpoint_helpers import Stop, joined, stop_after

COUNTS = ("total_records", "successful", "failed", "end_state_counts", "malformed", "chunks_processed")


@pytest.fixture(scope="module")
def seed_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,006 seed records with malformed lines and values of the wrong type."""
    return write_input(tmp_path_factory.mktemp("input") / "in.jsonl", 20_000)


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dirsink, "PART_WRITES", 3)


def _counts(result: Any) -> dict[str, Any]:
    return {k: result[k] for k in COUNTS}


@pytest.mark.usefixtures("small_parts")
def test_the_parts_joined_are_the_file_a_file_sink_writes(seed_input: Path, tmp_path: Path) -> None:
    fsm = SimpleFSM(create_streaming_fsm_config())
    one = fsm.process_stream(str(seed_input), str(tmp_path / "one.jsonl"), chunk_size=1000)
    parts = fsm.process_stream(str(seed_input), str(tmp_path / "out") + "/", chunk_size=1000)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"part-{k:06d}.jsonl" for k in range(7)]  # 21 chunks, 3 writes a part
    assert joined(tmp_path / "out") == (tmp_path / "one.jsonl").read_bytes()
    assert (tmp_path / "out.errors.jsonl").read_bytes() == (tmp_path / "one.errors.jsonl").read_bytes()
    assert _counts(parts) == _counts(one)
    assert parts.paths["output"] == str(tmp_path / "out")
    # a directory source reads the parts back in order
    back = open_source(str(tmp_path / "out"), chunk_size=100_000)
    with back:
        rows = sum(c.count for c in back.chunks())
    assert rows == sum(one.end_state_counts.values())  # every end state goes to `sink`


@pytest.mark.usefixtures("small_parts")
@pytest.mark.parametrize("fmt", ["parquet", "csv", "ipc"])
def test_table_formats_hold_the_same_rows(seed_input: Path, tmp_path: Path, fmt: str) -> None:
    fsm = SimpleFSM(create_streaming_fsm_config())
    suffix = {"parquet": "parquet", "csv": "csv", "ipc": "arrow"}[fmt]
    fsm.process_stream(str(seed_input), str(tmp_path / f"one.{suffix}"), chunk_size=1000)
    fsm.process_stream(str(seed_input), str(tmp_path / "out") + "/", chunk_size=1000, sink_format=fmt)
    assert len(list((tmp_path / "out").iterdir())) == 7
    assert all(p.suffix == f".{suffix}" for p in (tmp_path / "out").iterdir())
    if fmt == "parquet":
        assert pq.read_table(tmp_path / "out").equals(pq.read_table(tmp_path / f"one.{suffix}"))


def test_an_existing_directory_is_a_directory_sink_and_its_old_parts_go(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    for name in ("part-000000.jsonl", "part-000009.jsonl", "notes.txt", "part-000003.parquet"):
        (tmp_path / "out" / name).write_text("old\n")
    fsm = SimpleFSM(create_streaming_fsm_config())
    fsm.process_stream("examples/seed_sample.jsonl", str(tmp_path / "out"))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["notes.txt", "part-000000.jsonl", "part-000003.parquet"]  # other files stay
    assert len((tmp_path / "out" / "part-000000.jsonl").read_text().splitlines()) == 200


def test_no_records_leave_one_empty_part(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    fsm = SimpleFSM(create_streaming_fsm_config())
    r = fsm.process_stream(str(tmp_path / "empty.jsonl"), str(tmp_path / "out") + "/")
    assert r.total_records == 0
    assert [p.stat().st_size for p in (tmp_path / "out").iterdir()] == [0]


def test_a_failed_run_leaves_no_part(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part-000004.jsonl").write_text("old\n")
    fsm = SimpleFSM(create_streaming_fsm_config())
    seen = 0

    def boom(_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == 5:
            raise RuntimeError("progress callback failed")

    with pytest.raises(RuntimeError, match="progress callback failed"):
        fsm.process_stream(
            "examples/seed_sample.jsonl", str(tmp_path / "out"), chunk_size=10, on_progress=boom, parallelism=1
        )
    assert list((tmp_path / "out").iterdir()) == []  # neither its parts, nor those it replaced, nor hidden files


def test_bad_targets_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"directory '.*no-such' does not exist"):
        open_sink(str(tmp_path / "no-such" / "out") + "/")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="it is a file"):
        DirectorySink(tmp_path / "file")
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        open_sink(str(tmp_path / "x") + "/", format="xml")


@pytest.mark.usefixtures("small_parts")
def test_a_checkpointed_run_resumes_into_the_same_parts(
    seed_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsm = SimpleFSM(create_streaming_fsm_config())
    plain = fsm.process_stream(str(seed_input), str(tmp_path / "one.jsonl"), chunk_size=1000)
    out, ckpt = str(tmp_path / "out") + "/", str(tmp_path / "run.ckpt")
    stop_after(monkeypatch, 8)
    with pytest.raises(Stop):
        fsm.process_stream(str(seed_input), out, chunk_size=1000, checkpoint=ckpt)
    stop_after(monkeypatch, None)
    state = json.loads(Path(ckpt).read_text())
    committed = sorted((tmp_path / "out").glob("part-*"))
    assert state["parts"][0] == len(committed) > 0
    first = committed[0].stat().st_ino
    for leftover in (  # what a kill leaves: a part not committed, files of tasks and sinks caught writing
        f"part-{len(committed):06d}.jsonl",
        ".pending-0123456789ab-000000008000.jsonl",
        "..pending-0123456789ab-000000009000.jsonl.5e2f0c1d9a7b.tmp",
        f".part-{len(committed) + 1:06d}.jsonl.0c1d9a7b5e2f.tmp",
    ):
        (tmp_path / "out" / leftover).write_text("not committed\n")

    resumed = fsm.process_stream(str(seed_input), out, chunk_size=1000, checkpoint=ckpt)
    assert joined(tmp_path / "out") == (tmp_path / "one.jsonl").read_bytes()
    assert (tmp_path / "out.errors.jsonl").read_bytes() == (tmp_path / "one.errors.jsonl").read_bytes()
    assert _counts(resumed) == _counts(plain)
    assert (tmp_path / "out" / "part-000000.jsonl").stat().st_ino == first  # committed parts are kept as they are
    assert not Path(ckpt).exists() and not Path(f"{ckpt}.parts").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 40), max_size=12),
    part_writes=st.integers(1, 5),
    commits=st.lists(st.integers(0, 11), max_size=4),
)
def test_any_cut_into_parts_joins_to_the_file(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], part_writes: int, commits: list[int]
) -> None:
    """Whatever the writes, the part size and where commits cut parts, the parts joined are the file's bytes."""
    tmp = tmp_path_factory.mktemp("d")
    one = open_sink(tmp / "one.jsonl")
    parts = DirectorySink(tmp / "out", part_writes=part_writes)
    row = 0
    for k, n in enumerate(sizes):
        t = pa.table({"x": list(range(row, row + n)), "s": [f"v{i}" if i % 3 else None for i in range(n)]})
        row += n
        one.write(one.encode(t))
        parts.write(parts.encode(t))
        if k in commits:
            parts.sync()  # a checkpoint's commit ends the part being written
    one.close()
    parts.close()
    names = sorted(p.name for p in (tmp / "out").iterdir())
    assert names == [f"part-{k:06d}.jsonl" for k in range(len(names))] and names
    assert joined(tmp / "out") == (tmp / "one.jsonl").read_bytes()
    assert parts.records_written == row
