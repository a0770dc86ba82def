"""The core's seam and the result object: process_batch, statuses, warnings, dict access."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
from config_helpers import a_to_b

from streamkit import SimpleFSM
from streamkit.status import EventStatus

COMPLETED, FAILED = int(EventStatus.COMPLETED), int(EventStatus.FAILED)

CONFIG = {
    "networks": [
        {
            "name": "main",
            "states": [
                {
                    "name": "in",
                    "is_start": True,
                    "functions": {"transform": "lambda state: {**state.data, 'y': state.data['x'] * 2}"},
                },
                {"name": "big", "is_end": True},
                {"name": "small", "is_end": True},
            ],
            "arcs": [
                {"from": "in", "to": "big", "condition": "lambda state: state.data['y'] > 10"},
                {"from": "in", "to": "small"},
            ],
        }
    ]
}


def test_process_batch_is_the_seam() -> None:
    batch = pa.record_batch({"x": pa.array([1, 8, None, 6])})
    out = SimpleFSM(CONFIG).process_batch(batch, row_offset=100)
    assert out.n == 4
    assert out.outputs["big"].to_pylist() == [{"_row": 101, "x": 8, "y": 16}, {"_row": 103, "x": 6, "y": 12}]
    assert out.outputs["small"].column("_row").to_pylist() == [100]
    assert out.errors.select(["_row", "error_state", "error_type"]).to_pylist() == [
        {"_row": 102, "error_state": "in", "error_type": "TypeError"}
    ]
    assert out.status.tolist() == [COMPLETED, COMPLETED, FAILED, COMPLETED]
    assert out.end_state.tolist() == [2, 1, -1, 1]
    assert out.end_state_counts == {"big": 2, "small": 1}


def test_result_dict_access_polars_and_warnings() -> None:
    cfg = a_to_b("lambda state: {**state.data, 'z': state.data.get('q', 1)}")
    r = SimpleFSM(cfg).process(pl.DataFrame({"x": [1, 2, 3]}))
    assert (r["total_records"], r.get("successful"), r.get("failed"), r.get("nope", -1)) == (3, 3, 0, -1)
    assert r.warnings == ["field 'q' is read in state 'a' but never appears in the input"]
    df = r.to_polars()
    assert df.columns == ["_row", "x", "z", "_end_state"] and df["z"].to_list() == [1, 1, 1]
    assert np.array_equal(r.status, np.full(3, COMPLETED, np.uint8))
    assert r.records_per_second > 0 and r.duration >= 0


def test_result_status_index_answers_counts_ids_and_records() -> None:
    from streamkit import EventStatus, SimpleFSM

    fsm = SimpleFSM(
        {
            "networks": [
                {
                    "name": "m",
                    "states": [
                        {
                            "name": "a",
                            "is_start": True,
                            "functions": {"transform": "lambda state: {'y': 12 // state.data['x']}"},
                        },
                        {"name": "big", "is_end": True},
                        {"name": "small", "is_end": True},
                    ],
                    "arcs": [
                        {"from": "a", "to": "big", "condition": "lambda state: state.data['y'] > 3"},
                        {"from": "a", "to": "small"},
                    ],
                }
            ]
        }
    )
    # a list whose records have conflicting types runs as several type groups
    data = [{"x": 1}, {"x": 0}, {"x": "s"}, {"x": 4}, {"x": 2}, {"x": 0}, {"x": 12.0}]
    r = fsm.process(data)
    assert r.status_counts() == {
        "pending": 0,
        "processing": 0,
        "completed": 4,
        "failed": 3,
        "skipped": 0,
        "cancelled": 0,
        "aborted": 0,
    }
    assert r.ids("failed").tolist() == [1, 2, 5]
    assert r.ids("big").tolist() == [0, 4] and r.ids("small").tolist() == [3, 6]
    assert r.ids("completed").tolist() == [0, 3, 4, 6]
    assert r.records("failed").column("_row").to_pylist() == [1, 2, 5]
    assert r.records("failed").column("error_type").to_pylist() == [
        "ZeroDivisionError",
        "TypeError",
        "ZeroDivisionError",
    ]
    assert r.records("completed").column("_row").to_pylist() == [0, 3, 4, 6]
    assert r.status.tolist() == [2, 3, 3, 2, 2, 3, 2]  # input order, whatever the type groups
    assert r.index.status_of(2) is EventStatus.FAILED
    assert r.records("skipped").num_rows == 0
