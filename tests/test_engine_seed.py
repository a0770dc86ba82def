"""Every streaming example of seed 002, as printed there (the class names aside).

The pipeline example's stage 1 config is the seed's ``DataCleaner`` dict, verbatim, kept once in
``examples/seed_network.py`` (``create_data_cleaner_config``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from examples.seed_network import create_data_cleaner_config, create_streaming_fsm_config
from streamkit import AsyncSimpleFSM
from streamkit import StreamConfig as CoreStreamConfig


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# -- the seed's functions, verbatim --------------------------------------------------------
async def generate_streaming_data(count: int = 1000, chunk_size: int = 100):
    """
    Simulate a streaming data source.
    """
    for i in range(0, count, chunk_size):
        chunk_data = []
        for j in range(min(chunk_size, count - i)):
            record = {"id": i + j, "value": (i + j) * 10, "category": f"cat_{(i + j) % 5}", "status": "pending"}
            chunk_data.append(record)

        # Yield records one by one for streaming
        for record in chunk_data:
            yield record

        # Simulate processing delay
        await asyncio.sleep(0.01)


async def example_file_to_file_streaming():
    """Stream from file to file with FSM processing."""

    # Create FSM configuration
    config = create_streaming_fsm_config()

    # Initialize FSM
    fsm = AsyncSimpleFSM(config)

    # Process with streaming enabled
    results = await fsm.process_stream(
        source="input.jsonl",
        sink="output.jsonl",
        chunk_size=10,  # Process 10 records at a time
        use_streaming=True,  # Enable memory-efficient streaming
        on_progress=lambda p: print(f"Processed {p.records_processed} records..."),
    )

    print("Streaming complete!")
    print(f"Total records: {results.get('total_records', 0)}")
    print(f"Successful: {results.get('successful', 0)}")
    print(f"Failed: {results.get('failed', 0)}")
    return results


async def example_generator_to_file_streaming():
    """Process real-time data stream."""

    config = create_streaming_fsm_config()
    fsm = AsyncSimpleFSM(config)

    # Process streaming data
    results = await fsm.process_stream(
        source=generate_streaming_data(count=50, chunk_size=10),
        sink="realtime_output.jsonl",
        chunk_size=5,
        on_progress=lambda p: print(f"Streamed {p.records_processed} records..."),
    )

    print("Real-time processing complete!")
    return results


async def example_pipeline_streaming():
    """Multi-stage pipeline with streaming."""

    # Stage 1: Data cleaning
    stage1_config = create_data_cleaner_config()  # the seed's dict, verbatim

    # Stage 2: Processing FSM
    stage2_config = create_streaming_fsm_config()

    # Stage 1: Clean data
    stage1_fsm = AsyncSimpleFSM(stage1_config)
    stage1_results = await stage1_fsm.process_stream(
        source=generate_streaming_data(count=30, chunk_size=10), sink="stage1_output.jsonl", chunk_size=5
    )

    # Stage 2: Process cleaned data
    stage2_fsm = AsyncSimpleFSM(stage2_config)
    stage2_results = await stage2_fsm.process_stream(
        source="stage1_output.jsonl", sink="final_output.jsonl", chunk_size=5, use_streaming=True
    )

    print("Pipeline complete!")
    return stage1_results, stage2_results


# -- the tests ----------------------------------------------------------------------------
@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_input(records: list[dict], path: str = "input.jsonl") -> None:
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def test_file_to_file_example(in_tmp, capsys):
    records = [{"id": i, "value": i * 100 if i % 7 else -5, "category": f"cat_{i % 3}"} for i in range(25)]
    write_input(records)
    results = asyncio.run(example_file_to_file_streaming())
    out = read_jsonl("output.jsonl")
    invalid = [r for r in records if r["value"] < 0]
    assert results["total_records"] == 25 and results.get("failed") == 0
    assert results["end_state_counts"] == {"output": 25 - len(invalid), "error": len(invalid)}
    assert [r["id"] for r in out] == [r["id"] for r in records]  # every end state, in input order
    for r in out:
        if r.get("valid") is False:
            assert "value_tier" not in r or r["value_tier"] is None
        else:
            assert r["status"] == "processed"
            assert r["doubled_value"] == 2 * r["original_value"]
    printed = capsys.readouterr().out
    assert "Processed 10 records..." in printed and "Processed 25 records..." in printed
    assert "Total records: 25" in printed and "Successful: 25" in printed
    assert not Path("output.errors.jsonl").exists() or read_jsonl("output.errors.jsonl") == []


def test_seed_unit_test_as_printed(in_tmp):
    input_data = [{"id": i, "value": i * 100, "category": f"cat_{i % 3}"} for i in range(10)]
    write_input(input_data, "in.jsonl")
    fsm = AsyncSimpleFSM(create_streaming_fsm_config())
    results = asyncio.run(fsm.process_stream(source="in.jsonl", sink="out.jsonl", chunk_size=5, use_streaming=True))
    output_records = read_jsonl("out.jsonl")
    assert results["successful"] == 10
    for record in output_records:
        assert "original_value" in record
        assert "doubled_value" in record
        assert "value_tier" in record
        assert record["status"] == "processed"


def test_generator_example(in_tmp, capsys):
    results = asyncio.run(example_generator_to_file_streaming())
    out = read_jsonl("realtime_output.jsonl")
    assert results["total_records"] == 50 and results["successful"] == 50 and results["failed"] == 0
    assert [r["id"] for r in out] == list(range(50))
    assert {r["value_tier"] for r in out} == {"low"}
    assert [r["_row"] for r in out] == list(range(50))
    assert capsys.readouterr().out.count("Streamed ") == 10  # one progress call per 5-record chunk


def test_pipeline_example(in_tmp):
    s1, s2 = asyncio.run(example_pipeline_streaming())
    assert (s1["total_records"], s1["successful"]) == (30, 30)
    assert (s2["total_records"], s2["successful"], s2["failed"]) == (30, 30, 0)
    final = read_jsonl("final_output.jsonl")
    assert [r["id"] for r in final] == list(range(30))
    assert {r["category"] for r in final} == {f"CAT_{k}" for k in range(5)}


def test_stream_config_example_runs(in_tmp):
    stream_config = CoreStreamConfig(
        chunk_size=100,
        parallelism=4,
        memory_limit_mb=1024,  # Max 1GB memory
        backpressure_threshold=5000,  # Pause at 5000 pending items
    )
    write_input([{"id": i, "value": i, "category": "cat_0"} for i in range(1000)])
    fsm = AsyncSimpleFSM(create_streaming_fsm_config())
    seen = []

    def track_progress(progress):
        seen.append(
            (progress.chunks_processed, progress.records_processed, progress.records_per_second, len(progress.errors))
        )

    r = asyncio.run(
        fsm.process_stream(source="input.jsonl", sink="output.jsonl", config=stream_config, on_progress=track_progress)
    )
    assert r["total_records"] == 1000 and r["chunks_processed"] == 10
    assert [s[0] for s in seen] == list(range(1, 11))
    assert seen[-1][1] == 1000 and seen[-1][3] == 0
    assert r["peak_records_in_flight"] <= 5000
