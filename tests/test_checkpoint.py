"""Checkpoint and resume of file → file streams: ``process_stream(..., checkpoint=...)``.

The outputs of a run that was stopped (by an error in-process, or by ``kill -9``
in a child process) and resumed with the same call are compared byte for byte
with those of an uninterrupted run without a checkpoint, and so are its counts.
"""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import pytest

from benchmarks.checkpoint_report import kill_test, write_input
from examples.seed_network import create_streaming_fsm_config
from streamkit import CheckpointError, SimpleFSM
from streamkit.io.partfiles import PartSink
from tests.checkpoint_helpers import Stop, stop_after

N = 20_000
CHUNK = 2_000
COUNTS = ("total_records", "successful", "failed", "end_state_counts", "malformed", "chunks_processed")


@pytest.fixture(scope="module")
def fsm() -> SimpleFSM:
    return SimpleFSM(create_streaming_fsm_config())


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """Seed records with a few malformed lines and values of the wrong type (failed records)."""
    return write_input(tmp_path_factory.mktemp("input") / "in.jsonl", N)


def counts(result) -> dict:
    return {k: result[k] for k in COUNTS}


def outputs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def same_files(a: Path, b: Path) -> bool:
    names = outputs(a)
    return names == outputs(b) and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv", "arrow", "jsonl.gz"])
def test_same_bytes_with_and_without_checkpoint(fsm, source, tmp_path, fmt):
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    plain = fsm.process_stream(str(source), str(tmp_path / "plain" / f"out.{fmt}"), chunk_size=CHUNK)
    resumable = fsm.process_stream(
        str(source), str(tmp_path / "ckpt" / f"out.{fmt}"), chunk_size=CHUNK, checkpoint=str(ckpt)
    )
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert counts(resumable) == counts(plain)
    assert resumable.failed == 12 and resumable.malformed == 6  # the input's bad lines, accounted for
    assert resumable.paths == {k: v.replace("/plain/", "/ckpt/") for k, v in plain.paths.items()}
    assert not ckpt.exists() and not (tmp_path / "run.ckpt.parts").exists()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_resume_after_a_failure_gives_the_same_bytes_and_counts(fsm, source, tmp_path, monkeypatch, fmt):
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    plain = fsm.process_stream(str(source), str(tmp_path / "plain" / f"out.{fmt}"), chunk_size=CHUNK)
    out = str(tmp_path / "ckpt" / f"out.{fmt}")
    stop_after(monkeypatch, 4)
    with pytest.raises(Stop):
        fsm.process_stream(str(source), out, chunk_size=CHUNK, checkpoint=str(ckpt))
    state = json.loads(ckpt.read_text())
    assert (state["chunks"], state["position"]) == (4, 4 * CHUNK)
    assert outputs(tmp_path / "ckpt") == []  # nothing at the final paths until the run completes
    stop_after(monkeypatch, 7)
    with pytest.raises(Stop):  # stopped again, later: it resumes from the later checkpoint
        fsm.process_stream(str(source), out, chunk_size=CHUNK, checkpoint=str(ckpt))
    assert json.loads(ckpt.read_text())["chunks"] == 7
    stop_after(monkeypatch, None)
    resumed = fsm.process_stream(str(source), out, chunk_size=CHUNK, checkpoint=str(ckpt))
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert counts(resumed) == counts(plain)
    assert resumed.status_counts() == plain.status_counts()
    assert (resumed.ids("failed") == plain.ids("failed")).all()
    assert not ckpt.exists() and not (tmp_path / "run.ckpt.parts").exists()


def test_a_finished_run_leaves_no_checkpoint_and_runs_again(fsm, source, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    first = fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    data = (tmp_path / "out.jsonl").read_bytes()
    second = fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert counts(first) == counts(second) and (tmp_path / "out.jsonl").read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["out.errors.jsonl", "out.jsonl"]


def stopped_run(fsm, source: Path, tmp_path: Path, monkeypatch) -> Path:
    """A checkpoint left by a run that stopped after its first chunks."""
    ckpt = tmp_path / "run.ckpt"
    stop_after(monkeypatch, 2)
    with pytest.raises(Stop):
        fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    stop_after(monkeypatch, None)
    assert ckpt.exists()
    return ckpt


def test_resume_with_another_config_is_refused(fsm, source, tmp_path, monkeypatch):
    ckpt = stopped_run(fsm, source, tmp_path, monkeypatch)
    config = create_streaming_fsm_config()
    config["networks"][0]["states"][1]["functions"]["transform"]["code"] = (
        "lambda state: {**state.data, 'valid': state.data.get('value') is not None}"
    )
    with pytest.raises(
        CheckpointError, match=r"^cannot resume from checkpoint '.*run\.ckpt': the network config changed"
    ):
        SimpleFSM(config).process_stream(
            str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt)
        )


def test_resume_with_another_sink_or_chunk_size_is_refused(fsm, source, tmp_path, monkeypatch):
    ckpt = stopped_run(fsm, source, tmp_path, monkeypatch)
    with pytest.raises(
        CheckpointError, match=r"the sinks changed \(was \['.*out\.jsonl', .*\], now \['.*other\.jsonl'"
    ):
        fsm.process_stream(str(source), str(tmp_path / "other.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    with pytest.raises(CheckpointError, match=r"`chunk_size` changed \(was 2000, now 1000\)"):
        fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=1000, checkpoint=str(ckpt))
    # refused calls leave the checkpoint as it was: the right call still resumes it
    fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert not ckpt.exists()


def test_resume_with_a_changed_source_is_refused(fsm, source, tmp_path, monkeypatch):
    copy = tmp_path / "in.jsonl"
    copy.write_bytes(source.read_bytes())
    ckpt = stopped_run(fsm, copy, tmp_path, monkeypatch)
    with open(copy, "ab") as f:
        f.write(b'{"id": -1, "value": 1, "category": "cat_0", "status": "pending"}\n')
    with pytest.raises(CheckpointError, match=r"the source changed"):
        fsm.process_stream(str(copy), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))


def test_non_file_sources_and_sinks_are_refused(fsm, source, tmp_path):
    ckpt = str(tmp_path / "run.ckpt")
    records = [{"id": 1, "value": 2, "category": "cat_0", "status": "pending"}]
    with pytest.raises(TypeError, match=r"^`checkpoint=` resumes streams that read files .*, got 'iterable'"):
        fsm.process_stream(records, str(tmp_path / "out.jsonl"), checkpoint=ckpt)
    with pytest.raises(
        TypeError, match=r"^`checkpoint=` writes outputs to files only: `sink` must be a path, got list"
    ):
        fsm.process_stream(str(source), [], checkpoint=ckpt)
    with pytest.raises(
        ValueError, match=r"^`checkpoint=` writes every output to a file: end state 'output' has no sink"
    ):
        fsm.process_stream(str(source), checkpoint=ckpt)
    with pytest.raises(ValueError, match=r"`preserve_order` must be True, got False"):
        fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), checkpoint=ckpt, preserve_order=False)
    assert not (tmp_path / "run.ckpt").exists()


def test_a_file_that_is_not_a_checkpoint_is_refused(fsm, source, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_text("hello")
    with pytest.raises(CheckpointError, match=r"^'.*run\.ckpt' is not a streamkit checkpoint"):
        fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), checkpoint=str(ckpt))
    assert ckpt.read_text() == "hello"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_kill_9_and_resume_200k(tmp_path, fmt):
    """``kill -9`` at 5 random points of a 200k-record run; each resumed run's outputs are cmp-identical."""
    src = write_input(tmp_path / "in.jsonl", 200_000)
    lines: list[str] = []
    assert kill_test(src, tmp_path, sink_format=fmt, kills=5, chunk_size=10_000, log=lines.append), "\n".join(lines)


def parsed(line: bytes) -> dict | None:
    try:
        return json.loads(line)
    except ValueError:
        return None


@pytest.mark.parametrize("layout", ["two-jsonl-files", "parquet", "csv"])
def test_resume_from_other_sources(fsm, source, tmp_path, monkeypatch, layout):
    """JSON Lines sources resume from a byte offset (in the right file of several); others skip committed chunks."""
    lines = source.read_bytes().splitlines(keepends=True)
    inp = tmp_path / "in"
    inp.mkdir()
    if layout == "two-jsonl-files":
        (inp / "a.jsonl").write_bytes(
            b"\xef\xbb\xbf" + b"".join(lines[:7_000]) + b"\n\n"
        )  # a byte order mark, blank lines
        (inp / "b.jsonl").write_bytes(b"".join(lines[7_000:]))
        src = str(inp / "*.jsonl")
    else:
        import polars as pl

        good = [r for r in map(parsed, lines) if r is not None and isinstance(r["value"], (int, type(None)))]
        pl.DataFrame(good).write_parquet(inp / "in.parquet", row_group_size=3_000)
        if layout == "csv":
            pl.DataFrame(good).write_csv(inp / "in.csv")
            (inp / "in.parquet").unlink()
        src = str(next(inp.iterdir()))
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    plain = fsm.process_stream(src, str(tmp_path / "plain" / "out.jsonl"), chunk_size=CHUNK)
    stop_after(monkeypatch, 5)
    with pytest.raises(Stop):
        fsm.process_stream(src, str(tmp_path / "ckpt" / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    at = json.loads(ckpt.read_text())["source_at"]
    if layout == "two-jsonl-files":
        assert at["file"] == 1 and at["byte"] > 0  # the 5th chunk ends in the second file
    else:
        assert "byte" not in at
    stop_after(monkeypatch, None)
    resumed = fsm.process_stream(src, str(tmp_path / "ckpt" / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert counts(resumed) == counts(plain)


def test_an_empty_input_and_a_pipeline(fsm, source, tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    for fmt in ("jsonl", "parquet", "csv"):
        fsm.process_stream(str(tmp_path / "empty.jsonl"), str(tmp_path / f"a.{fmt}"))
        r = fsm.process_stream(
            str(tmp_path / "empty.jsonl"), str(tmp_path / f"b.{fmt}"), checkpoint=str(tmp_path / "c")
        )
        assert r.total_records == 0
        assert filecmp.cmp(tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}", shallow=False)
    pipeline = fsm | SimpleFSM(create_streaming_fsm_config())
    a = pipeline.process_stream(str(source), str(tmp_path / "pa.jsonl"), chunk_size=CHUNK)
    b = pipeline.process_stream(
        str(source), str(tmp_path / "pb.jsonl"), chunk_size=CHUNK, checkpoint=str(tmp_path / "c")
    )
    assert counts(a) == counts(b)
    for name in ("{}.jsonl", "{}.errors.jsonl"):
        assert filecmp.cmp(tmp_path / name.format("pa"), tmp_path / name.format("pb"), shallow=False)


def test_a_run_stopped_while_joining_its_parts_resumes(fsm, source, tmp_path, monkeypatch):
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    fsm.process_stream(str(source), str(tmp_path / "plain" / "out.parquet"), chunk_size=CHUNK)
    join = PartSink._commit

    def fails_on_errors(self) -> None:
        if self.path.name.endswith(".errors.jsonl"):
            raise Stop
        join(self)

    monkeypatch.setattr(PartSink, "_commit", fails_on_errors)
    with pytest.raises(Stop):  # the main file is joined, then the error file fails
        fsm.process_stream(str(source), str(tmp_path / "ckpt" / "out.parquet"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert ckpt.exists() and json.loads(ckpt.read_text())["position"] == N + 6
    assert outputs(tmp_path / "ckpt") == ["out.parquet"]  # complete, as it will be after the resume
    monkeypatch.undo()
    resumed = fsm.process_stream(
        str(source), str(tmp_path / "ckpt" / "out.parquet"), chunk_size=CHUNK, checkpoint=str(ckpt)
    )
    assert resumed.total_records == N + 6 and resumed.chunks_processed == 11
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")


def test_json_lines_parts_are_one_stream_cut_back_to_the_checkpoint(fsm, source, tmp_path, monkeypatch):
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    fsm.process_stream(str(source), str(tmp_path / "plain" / "out.jsonl"), chunk_size=CHUNK)
    out = str(tmp_path / "ckpt" / "out.jsonl")
    stop_after(monkeypatch, 3)
    with pytest.raises(Stop):
        fsm.process_stream(str(source), out, chunk_size=CHUNK, checkpoint=str(ckpt))
    stop_after(monkeypatch, None)
    main = tmp_path / "run.ckpt.parts" / "0"
    assert os.listdir(main) == ["text.stream"]  # one file, no part per chunk
    state = json.loads(ckpt.read_text())
    assert state["bytes"][0] == (main / "text.stream").stat().st_size > 0
    with open(main / "text.stream", "ab") as f:  # what a killed run wrote after its last commit
        f.write(b'{"half a record": ')
    fsm.process_stream(str(source), out, chunk_size=CHUNK, checkpoint=str(ckpt))
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")


def test_a_json_lines_stream_shorter_than_its_checkpoint_is_refused(fsm, source, tmp_path, monkeypatch):
    ckpt = stopped_run(fsm, source, tmp_path, monkeypatch)
    stream = tmp_path / "run.ckpt.parts" / "0" / "text.stream"
    os.truncate(stream, stream.stat().st_size - 1)
    with pytest.raises(FileNotFoundError, match=r"text\.stream.*holds [\d,]+ bytes of [\d,]+"):
        fsm.process_stream(str(source), str(tmp_path / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))


def test_a_run_stopped_while_placing_json_lines_files_resumes(fsm, source, tmp_path, monkeypatch):
    (tmp_path / "plain").mkdir()
    (tmp_path / "ckpt").mkdir()
    ckpt = tmp_path / "run.ckpt"
    fsm.process_stream(str(source), str(tmp_path / "plain" / "out.jsonl"), chunk_size=CHUNK)
    place = PartSink._commit

    def fails_on_errors(self) -> None:
        if self.path.name.endswith(".errors.jsonl"):
            raise Stop
        place(self)

    monkeypatch.setattr(PartSink, "_commit", fails_on_errors)
    with pytest.raises(Stop):  # the main file is in place (linked to its stream), then the error file fails
        fsm.process_stream(str(source), str(tmp_path / "ckpt" / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert outputs(tmp_path / "ckpt") == ["out.jsonl"]
    monkeypatch.undo()
    fsm.process_stream(str(source), str(tmp_path / "ckpt" / "out.jsonl"), chunk_size=CHUNK, checkpoint=str(ckpt))
    assert same_files(tmp_path / "plain", tmp_path / "ckpt")
    assert not ckpt.exists() and not (tmp_path / "run.ckpt.parts").exists()
