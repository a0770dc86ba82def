"""Seed 002: the ``StreamingProcessor`` network, exactly as the seed prints it, gives exact answers.

The config comes from ``examples/seed_network.py`` (a verbatim copy of the
seed's ``create_streaming_fsm_config``). Every expected value below is worked
out by hand from the seed's inline code:

- ``validate``: ``valid = value is not None and value >= 0``; ``valid`` false →
  end state ``error`` with the input fields plus ``valid``;
- ``enrich``: ``id, original_value, doubled_value, squared_value, category,
  status='enriched'`` (every other field is dropped);
- ``categorize``: ``value_tier`` high (> 5000) / medium (> 1000) / low,
  ``status='processed'``, ``risk_score = min(100, squared_value / 100)`` →
  end state ``output``.

Python's ``min(100, x)`` is the int ``100`` or the float ``x``; in a column
both are float64, so ``risk_score`` is ``100.0`` where Python says ``100``
(equal as numbers, which is what DESIGN.md §3 asks).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
import yaml

from examples.reference import seed_record
from examples.seed_network import create_data_cleaner_config, create_streaming_fsm_config, generate_records
from streamkit import ConfigError, SimpleFSM, interpret, load_config

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

OUTPUT_FIELDS = [
    "_row",
    "id",
    "original_value",
    "doubled_value",
    "squared_value",
    "category",
    "status",
    "value_tier",
    "risk_score",
]
ERROR_OUTPUT_FIELDS = ["_row", "id", "value", "category", "status", "valid"]
FAILED_FIELDS = ["_row", "error_state", "error_type", "error_message", "id", "value", "category", "status"]


def seed_records(count: int = 50) -> list[dict[str, Any]]:
    """The records of the seed's ``generate_streaming_data(count)``, in order."""
    return [{"id": i, "value": i * 10, "category": f"cat_{i % 5}", "status": "pending"} for i in range(count)]


def expected_output(row: int, id_: int, value: int, category: str) -> dict[str, Any]:
    """The ``output`` row of a valid record: the hand-written reference (``examples/reference.py``)."""
    end_state, out = seed_record({"id": id_, "value": value, "category": category, "status": "pending"})
    assert end_state == "output"
    return {"_row": row, **out}


# --------------------------------------------------------------------------- the config itself


def test_config_is_the_seed_config() -> None:
    config = create_streaming_fsm_config()
    assert config["name"] == "StreamingProcessor"
    assert config["main_network"] == "main"
    [net] = config["networks"]
    assert [s["name"] for s in net["states"]] == ["input", "validate", "enrich", "categorize", "output", "error"]
    assert [(a["from"], a["to"]) for a in net["arcs"]] == [
        ("input", "validate"),
        ("validate", "enrich"),
        ("validate", "error"),
        ("enrich", "categorize"),
        ("categorize", "output"),
    ]
    assert net["arcs"][1]["condition"]["code"] == "lambda state: state.data.get('valid', True)"
    assert net["arcs"][2]["condition"]["code"] == "lambda state: not state.data.get('valid', True)"
    enrich = net["states"][2]["functions"]["transform"]["code"]
    assert "'squared_value': state.data['value'] ** 2," in enrich
    categorize = net["states"][3]["functions"]["transform"]["code"]
    assert "'risk_score': min(100, state.data['squared_value'] / 100)" in categorize


def test_yaml_copy_is_the_same_config(repo_root: Path) -> None:
    path = repo_root / "examples" / "seed_streaming.yaml"
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == create_streaming_fsm_config()
    assert load_config(path) == load_config(create_streaming_fsm_config())
    result = SimpleFSM(path).process(seed_records(5))
    assert result.end_state_counts == {"output": 5, "error": 0}


def test_config_dict_is_not_modified(seed_config: dict[str, Any]) -> None:
    before = copy.deepcopy(seed_config)
    SimpleFSM(seed_config).process(seed_records(3))
    assert seed_config == before


# --------------------------------------------------------------------------- the seed's own data


def test_seed_stream_of_50_records() -> None:
    result = SimpleFSM(create_streaming_fsm_config()).process(seed_records(50))
    assert (result.total_records, result.successful, result.failed) == (50, 50, 0)
    assert result.end_state_counts == {"output": 50, "error": 0}
    assert result["total_records"] == 50 and result.get("successful") == 50 and result.get("failed") == 0
    out = result.output("output")
    assert out.column_names == OUTPUT_FIELDS
    rows = out.to_pylist()
    assert rows == [expected_output(i, i, i * 10, f"cat_{i % 5}") for i in range(50)]
    # spot checks, written out
    assert rows[0] == {
        "_row": 0,
        "id": 0,
        "original_value": 0,
        "doubled_value": 0,
        "squared_value": 0,
        "category": "cat_0",
        "status": "processed",
        "value_tier": "low",
        "risk_score": 0.0,
    }
    assert rows[7] == {
        "_row": 7,
        "id": 7,
        "original_value": 70,
        "doubled_value": 140,
        "squared_value": 4900,
        "category": "cat_2",
        "status": "processed",
        "value_tier": "low",
        "risk_score": 49.0,
    }
    assert rows[9]["risk_score"] == 81.0
    assert rows[10]["risk_score"] == 100.0  # min(100, 100.0) is the int 100 in Python
    assert rows[49] == {
        "_row": 49,
        "id": 49,
        "original_value": 490,
        "doubled_value": 980,
        "squared_value": 240100,
        "category": "cat_4",
        "status": "processed",
        "value_tier": "low",
        "risk_score": 100.0,
    }
    assert result.output("error").num_rows == 0
    assert result.errors().num_rows == 0


def test_seed_stream_agrees_with_the_interpreter() -> None:
    records = seed_records(50)
    rows = SimpleFSM(create_streaming_fsm_config()).process(records).output("output").to_pylist()
    outcomes = interpret(create_streaming_fsm_config(), records)
    assert [o.status for o in outcomes] == ["completed"] * 50
    assert [o.end_state for o in outcomes] == ["output"] * 50
    assert [{"_row": i, **o.data} for i, o in enumerate(outcomes)] == rows  # 100 == 100.0
    assert type(outcomes[10].data["risk_score"]) is int  # Python's min keeps the int ...
    assert type(rows[10]["risk_score"]) is float  # ... the column is float64


def test_file_to_file_streaming_basic() -> None:
    """The seed's ``test_file_to_file_streaming_basic``, with ``process`` instead of files."""
    input_data = [{"id": i, "value": i * 100, "category": f"cat_{i % 3}"} for i in range(10)]
    fsm = SimpleFSM(create_streaming_fsm_config())
    results = fsm.process(input_data)
    assert results.get("total_records", 0) == 10
    assert results.get("successful", 0) == 10
    assert results.get("failed", 0) == 0
    output_records = results.output("output").to_pylist()
    assert len(output_records) == 10
    for record in output_records:
        assert "original_value" in record
        assert "doubled_value" in record
        assert "value_tier" in record
        assert record["status"] == "processed"
    assert output_records == [expected_output(i, i, i * 100, f"cat_{i % 3}") for i in range(10)]
    assert [r["risk_score"] for r in output_records] == [0.0] + [100.0] * 9


# --------------------------------------------------------------------------- hand-picked records

#: (value, end state or failure) at every boundary of the network.
HAND_PICKED: list[Any] = [
    1000,
    1001,
    5000,
    5001,
    None,
    -1,
    2**62,
    0,
    99,
    100,
    101,
    3_037_000_499,
    3_037_000_500,
    -(2**63),
]


def hand_picked_records() -> list[dict[str, Any]]:
    return [
        {"id": 100 + k, "value": v, "category": f"cat_{k % 5}", "status": "pending"} for k, v in enumerate(HAND_PICKED)
    ]


def check_hand_picked(result: Any) -> None:
    """Every exact value the hand-picked records must give."""
    assert result.total_records == 14
    assert result.end_state_counts == {"output": 9, "error": 3}
    assert (result.successful, result.failed) == (12, 2)

    out = result.output("output")
    assert out.column_names == OUTPUT_FIELDS
    assert out.schema.field("risk_score").type == pa.float64()
    assert out.schema.field("squared_value").type == pa.int64()
    rows = out.to_pylist()
    assert [r["_row"] for r in rows] == [0, 1, 2, 3, 7, 8, 9, 10, 11]
    by_value = {r["original_value"]: r for r in rows}
    assert by_value[1000] == {
        "_row": 0,
        "id": 100,
        "original_value": 1000,
        "doubled_value": 2000,
        "squared_value": 1_000_000,
        "category": "cat_0",
        "status": "processed",
        "value_tier": "low",
        "risk_score": 100.0,
    }
    assert by_value[1001] == {
        "_row": 1,
        "id": 101,
        "original_value": 1001,
        "doubled_value": 2002,
        "squared_value": 1_002_001,
        "category": "cat_1",
        "status": "processed",
        "value_tier": "medium",
        "risk_score": 100.0,
    }
    assert by_value[5000] == {
        "_row": 2,
        "id": 102,
        "original_value": 5000,
        "doubled_value": 10000,
        "squared_value": 25_000_000,
        "category": "cat_2",
        "status": "processed",
        "value_tier": "medium",
        "risk_score": 100.0,
    }
    assert by_value[5001] == {
        "_row": 3,
        "id": 103,
        "original_value": 5001,
        "doubled_value": 10002,
        "squared_value": 25_010_001,
        "category": "cat_3",
        "status": "processed",
        "value_tier": "high",
        "risk_score": 100.0,
    }
    assert by_value[0]["risk_score"] == 0.0 and by_value[0]["value_tier"] == "low"
    assert by_value[99]["risk_score"] == 98.01  # 9801 / 100, a float
    assert by_value[100]["risk_score"] == 100.0  # min(100, 100.0): the int 100 in Python
    assert by_value[101]["risk_score"] == 100.0  # min(100, 102.01)
    big = by_value[3_037_000_499]  # the largest value whose square fits in int64
    assert big["squared_value"] == 3_037_000_499**2 == 9_223_372_030_926_249_001
    assert big["doubled_value"] == 6_074_000_998
    assert big["value_tier"] == "high" and big["risk_score"] == 100.0

    errors_out = result.output("error")
    assert errors_out.column_names == ERROR_OUTPUT_FIELDS
    assert errors_out.to_pylist() == [
        {"_row": 4, "id": 104, "value": None, "category": "cat_4", "status": "pending", "valid": False},
        {"_row": 5, "id": 105, "value": -1, "category": "cat_0", "status": "pending", "valid": False},
        {"_row": 13, "id": 113, "value": -(2**63), "category": "cat_3", "status": "pending", "valid": False},
    ]

    failed = result.errors()
    assert failed.column_names == FAILED_FIELDS
    message = "integer result outside int64"
    assert failed.to_pylist() == [
        {
            "_row": 6,
            "error_state": "enrich",
            "error_type": "OverflowError",
            "error_message": message,
            "id": 106,
            "value": 2**62,
            "category": "cat_1",
            "status": "pending",
        },
        {
            "_row": 12,
            "error_state": "enrich",
            "error_type": "OverflowError",
            "error_message": message,
            "id": 112,
            "value": 3_037_000_500,
            "category": "cat_2",
            "status": "pending",
        },
    ]


def test_hand_picked_records() -> None:
    check_hand_picked(SimpleFSM(create_streaming_fsm_config()).process(hand_picked_records()))


def test_hand_picked_records_agree_with_the_interpreter() -> None:
    outcomes = interpret(create_streaming_fsm_config(), hand_picked_records())
    assert [(o.status, o.end_state, o.error_state, o.error_type) for o in outcomes] == [
        ("completed", "output", None, None)
    ] * 4 + [("completed", "error", None, None)] * 2 + [("failed", None, "enrich", "OverflowError")] + [
        ("completed", "output", None, None)
    ] * 5 + [("failed", None, "enrich", "OverflowError"), ("completed", "error", None, None)]
    # the interpreter drops null fields; the error output keeps them as null columns
    assert outcomes[4].data == {"id": 104, "category": "cat_4", "status": "pending", "valid": False}


@pytest.mark.parametrize("chunk_size", [1, 3, 5, 65_536])
def test_hand_picked_records_in_chunks(chunk_size: int) -> None:
    fsm = SimpleFSM(create_streaming_fsm_config(), chunk_size=chunk_size)
    check_hand_picked(fsm.process(pa.Table.from_pylist(hand_picked_records())))


@pytest.mark.parametrize("kind", ["list", "pyarrow", "pyarrow-batch", "polars"])
def test_same_answer_for_every_input_kind(kind: str) -> None:
    records = hand_picked_records() + [{**r, "id": 1000 + r["id"]} for r in seed_records(20)]
    data: Any = {
        "list": records,
        "pyarrow": pa.Table.from_pylist(records),
        "pyarrow-batch": pa.RecordBatch.from_pylist(records),
        "polars": pl.DataFrame(records),
    }[kind]
    result = SimpleFSM(create_streaming_fsm_config()).process(data)
    reference = SimpleFSM(create_streaming_fsm_config()).process(records)
    assert result.end_state_counts == reference.end_state_counts == {"output": 29, "error": 3}
    assert (result.total_records, result.successful, result.failed) == (34, 32, 2)
    for end_state in ("output", "error"):
        assert result.output(end_state).to_pylist() == reference.output(end_state).to_pylist()
    assert result.errors().to_pylist() == reference.errors().to_pylist()
    check_hand_picked(
        SimpleFSM(create_streaming_fsm_config()).process(data.slice(0, 14) if kind != "list" else records[:14])
    )


def test_polars_output_and_all_completed() -> None:
    result = SimpleFSM(create_streaming_fsm_config()).process(hand_picked_records())
    frame = result.to_polars("output")
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == OUTPUT_FIELDS
    assert frame["value_tier"].cast(pl.String).to_list() == [
        "low",
        "medium",
        "medium",
        "high",
        "low",
        "low",
        "low",
        "low",
        "high",
    ]
    everything = result.to_polars()
    assert everything["_row"].to_list() == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13]
    assert everything["_end_state"].to_list() == ["output"] * 4 + ["error"] * 2 + ["output"] * 5 + ["error"]


def test_generated_records_conserve_every_record() -> None:
    table = generate_records(20_000, seed=3)
    result = SimpleFSM(create_streaming_fsm_config(), chunk_size=4096).process(table)
    assert result.total_records == 20_000 == result.successful + result.failed
    assert result.failed == 0  # generated values are at most 100 000: squares fit
    value = table.column("value")
    n_error = value.null_count + sum(1 for v in value.to_pylist() if v is not None and v < 0)
    assert result.end_state_counts == {"output": 20_000 - n_error, "error": n_error}
    rows = sorted(
        result.output("output").column("_row").to_pylist() + result.output("error").column("_row").to_pylist()
    )
    assert rows == list(range(20_000))


def test_missing_value_field_is_reported() -> None:
    result = SimpleFSM(create_streaming_fsm_config()).process([{"id": 1, "category": "cat_1", "status": "x"}])
    assert result.end_state_counts == {"output": 0, "error": 1}
    assert result.output("error").to_pylist() == [
        {"_row": 0, "id": 1, "category": "cat_1", "status": "x", "valid": False}
    ]
    assert any("'value'" in w for w in result.warnings), result.warnings


# --------------------------------------------------------------------------- safe mode


def test_seed_network_runs_in_safe_mode() -> None:
    fsm = SimpleFSM(create_streaming_fsm_config(), allow_python=False)
    check_hand_picked(fsm.process(hand_picked_records()))
    explain = fsm.explain()
    assert "python" not in explain
    for state in ("validate", "enrich", "categorize"):
        assert f"  {state}: numba" in explain


def stage1_config() -> dict[str, Any]:
    """The seed's pipeline stage 1 (``DataCleaner``), verbatim."""
    return create_data_cleaner_config()


def test_stage1_cleaner_is_rejected_in_safe_mode() -> None:
    with pytest.raises(ConfigError) as info:
        SimpleFSM(stage1_config(), allow_python=False)
    message = str(info.value)
    assert "'clean'" in message
    assert "__import__" in message
    [problem] = [p for p in info.value.problems if p.path]
    assert problem.path == "networks[0].states[1] 'clean'.functions.transform"
    assert problem.message == "unsupported construct `__import__('time').time()` at line 5"


def test_stage1_cleaner_runs_with_python() -> None:
    fsm = SimpleFSM(stage1_config(), allow_python=True)
    records = [{"id": i, "value": i * 10 - 20, "category": f"cat_{i % 5}", "status": "pending"} for i in range(5)]
    records += [{"id": 5, "value": None, "category": None}]
    before = time.time()
    result = fsm.process(records)
    after = time.time()
    assert result.end_state_counts == {"output": 6} and result.failed == 0
    rows = result.output("output").to_pylist()
    stamps = [r.pop("timestamp") for r in rows]
    assert all(isinstance(t, float) and before <= t <= after for t in stamps)
    assert rows == [
        {"_row": 0, "id": 0, "value": 0, "category": "CAT_0"},
        {"_row": 1, "id": 1, "value": 0, "category": "CAT_1"},
        {"_row": 2, "id": 2, "value": 0, "category": "CAT_2"},
        {"_row": 3, "id": 3, "value": 10, "category": "CAT_3"},
        {"_row": 4, "id": 4, "value": 20, "category": "CAT_4"},
        {"_row": 5, "id": 5, "value": 0, "category": ""},  # null == missing: .get defaults apply
    ]
    explain = fsm.explain()
    clean = next(line for line in explain.splitlines() if line.strip().startswith("clean"))
    assert clean.startswith("  clean: python")
    assert "__import__" in clean


def test_seed_pipeline_stage1_into_stage2() -> None:
    """The seed's multi-stage pipeline: stage 1's output is stage 2's input."""
    stage1 = SimpleFSM(stage1_config()).process(seed_records(30))
    stage2 = SimpleFSM(create_streaming_fsm_config()).process(stage1.to_polars("output").drop("_row"))
    assert stage2.end_state_counts == {"output": 30, "error": 0}
    rows = stage2.output("output").to_pylist()
    assert rows == [expected_output(i, i, i * 10, f"CAT_{i % 5}") for i in range(30)]
