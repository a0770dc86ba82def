"""Messy input through the stream: nested values whose shapes and types drift, a reserved field name.

Every record must come out once, completed with its values or failed with a
reason, whatever the chunking and the sink's format; nothing crashes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamkit import SimpleFSM, SourceError

PASS_THROUGH = {
    "name": "P",
    "main_network": "main",
    "networks": [
        {
            "name": "main",
            "states": [
                {"name": "input", "is_start": True},
                {"name": "tag", "functions": {"transform": "lambda state: {**state.data, 'k': 1}"}},
                {"name": "out", "is_end": True},
            ],
            "arcs": [{"from": "input", "to": "tag"}, {"from": "tag", "to": "out"}],
        }
    ],
}


@pytest.fixture(scope="module")
def fsm() -> SimpleFSM:
    return SimpleFSM(PASS_THROUGH)


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def read_jsonl(path: Path) -> list[dict]:
    # "\n" only: str.splitlines would also cut at U+0085 or U+2028, which JSON text holds as they are
    return [json.loads(x) for x in path.read_text().split("\n") if x] if path.exists() else []


def without_nulls(v):
    """Null == missing, at every depth (a struct column gives every record all of its fields)."""
    if isinstance(v, dict):
        return {k: without_nulls(e) for k, e in v.items() if e is not None}
    if isinstance(v, list):
        return [without_nulls(e) for e in v]
    return v


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)),
    max_leaves=6,
)
messy_records = st.lists(st.dictionaries(st.sampled_from("abc"), values, max_size=3), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=messy_records, chunk=st.integers(1, 8))
def test_drifting_nested_values_are_kept_or_failed_with_a_reason(tmp_path: Path, fsm, records, chunk) -> None:
    write_jsonl(tmp_path / "in.jsonl", records)
    for f in tmp_path.glob("o.*"):
        f.unlink()
    r = fsm.process_stream(str(tmp_path / "in.jsonl"), sink=str(tmp_path / "o.jsonl"), chunk_size=chunk)
    assert r.total_records == len(records) == r.successful + r.failed
    assert r.failed == r.malformed  # the network itself cannot fail: only unreadable records do
    out = read_jsonl(tmp_path / "o.jsonl")
    errors = read_jsonl(tmp_path / "o.errors.jsonl")
    assert sorted([o["_row"] for o in out] + [e["_row"] for e in errors]) == list(range(len(records)))
    for o in out:
        want = without_nulls({**records[o["_row"]], "k": 1})
        assert without_nulls({k: v for k, v in o.items() if k != "_row"}) == want
    for e in errors:
        assert e["error_type"] in ("SchemaError", "OverflowError") and e["line"] == e["_row"] + 1
        assert json.loads(e["raw"]) == records[e["_row"]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=messy_records, chunk=st.integers(1, 8), fmt=st.sampled_from(["parquet", "arrow", "csv"]))
def test_drifting_values_reach_every_file_format(tmp_path: Path, fsm, records, chunk, fmt) -> None:
    sink = tmp_path / f"o.{fmt}"
    r = fsm.process_stream(records, sink=str(sink), error_sink=str(tmp_path / "e.jsonl"), chunk_size=chunk)
    assert r.total_records == len(records) == r.successful + r.failed
    if fmt == "parquet":
        back = pq.read_table(sink)
    elif fmt == "arrow":
        back = pa.ipc.open_file(sink).read_all()
    else:
        back = pcsv.read_csv(sink) if sink.stat().st_size else pa.table({"_row": pa.array([], pa.int64())})
    failed = [e["_row"] for e in read_jsonl(tmp_path / "e.jsonl")]
    done = back.column("_row").to_pylist() if "_row" in back.column_names else []  # no record: no columns
    assert len(done) == back.num_rows == r.successful
    assert sorted(done + failed) == list(range(len(records)))


def test_struct_fields_that_change_type_in_one_chunk(tmp_path: Path, fsm) -> None:
    records = [{"a": {"x": 1}}, {"a": {"x": "s", "y": [1]}}, {"a": {}}, {"a": "plain"}]
    write_jsonl(tmp_path / "in.jsonl", records)
    for fmt in ("jsonl", "parquet", "arrow", "csv"):
        r = fsm.process_stream(str(tmp_path / "in.jsonl"), sink=str(tmp_path / f"o.{fmt}"), chunk_size=100)
        assert (r.successful, r.failed) == (4, 0), fmt
    out = read_jsonl(tmp_path / "o.jsonl")
    assert [without_nulls(o["a"]) for o in out] == [{"x": 1}, {"x": "s", "y": [1]}, {}, "plain"]
    assert pq.read_table(tmp_path / "o.parquet").column("a").to_pylist()[:2] == ['{"x":1}', '{"x":"s","y":[1]}']
    res = fsm.process(records)
    assert [without_nulls(a) for a in res.output("out").column("a").to_pylist()] == [
        {"x": 1},
        {"x": "s", "y": [1]},
        {},
        "plain",
    ]


def test_in_memory_records_arrow_cannot_hold_fail_with_the_field_named(fsm) -> None:
    records = [{"a": [1]}, {"a": [1, "x"]}, 5, {"a": 2**70}, {"a": "s"}]
    res = SimpleFSM(PASS_THROUGH, chunk_size=2).process(records)
    assert (res.total_records, res.successful, res.failed) == (5, 2, 3)
    assert res.output("out").to_pylist() == [{"_row": 0, "a": [1], "k": 1}, {"_row": 4, "a": "s", "k": 1}]
    errors = res.errors().select(["_row", "error_state", "error_type", "error_message", "raw"]).to_pylist()
    assert [(e["_row"], e["error_state"], e["error_type"]) for e in errors] == [
        (1, "<read>", "SchemaError"),
        (2, "<read>", "TypeError"),
        (3, "<read>", "OverflowError"),
    ]
    assert errors[1]["error_message"] == "expected a mapping (dict), got int" and errors[1]["raw"] == "5"
    assert "field `a`" in errors[0]["error_message"] and "field `a`" in errors[2]["error_message"]
    assert res.status.tolist() == [2, 3, 3, 3, 2]
    assert res.status_counts()["failed"] == 3
    streamed = fsm.process_stream(records, chunk_size=2)  # the stream says the same of the same records
    assert streamed.errors().select(["_row", "error_type"]).to_pylist() == [
        {"_row": e["_row"], "error_type": e["error_type"]} for e in errors
    ]


def test_row_is_the_position_whatever_the_input_or_a_transform_says(tmp_path: Path) -> None:
    fsm = SimpleFSM(
        {
            "name": "R",
            "main_network": "m",
            "networks": [
                {
                    "name": "m",
                    "states": [
                        {
                            "name": "s",
                            "is_start": True,
                            "functions": {"transform": "lambda state: {**state.data, '_row': 99, 'b': 1}"},
                        },
                        {"name": "e", "is_end": True},
                    ],
                    "arcs": [{"from": "s", "to": "e"}],
                }
            ],
        }
    )
    records = [{"_row": 5, "a": 1}, {"_row": "x", "a": 2}, {"a": 3}]
    res = fsm.process(records)
    assert res.output("e").to_pylist() == [
        {"_row": 0, "a": 1, "b": 1},
        {"_row": 1, "a": 2, "b": 1},
        {"_row": 2, "a": 3, "b": 1},
    ]
    assert any("'_row'" in w for w in res.warnings)
    write_jsonl(tmp_path / "in.jsonl", records)
    r = fsm.process_stream(str(tmp_path / "in.jsonl"), sink=str(tmp_path / "o.jsonl"), chunk_size=2)
    assert read_jsonl(tmp_path / "o.jsonl") == [
        {"_row": 0, "a": 1, "b": 1},
        {"_row": 1, "a": 2, "b": 1},
        {"_row": 2, "a": 3, "b": 1},
    ]
    assert any("'_row'" in w for w in r.warnings)
    clean = fsm.process([{"a": 1}])
    assert not any("'_row'" in w for w in clean.warnings)


# -- bad input: clear errors ---------------------------------------------------------------------
def test_corrupt_files_raise_source_error_naming_file_and_format(tmp_path: Path, fsm) -> None:
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), good, row_group_size=100)
    data = good.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2] + data[-len(data) // 4 :])
    (tmp_path / "text.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "junk.arrow").write_bytes(b"ARROW1" + b"x" * 64)
    for name, fmt in (("cut.parquet", "Parquet"), ("text.parquet", "Parquet"), ("junk.arrow", "Arrow IPC")):
        with pytest.raises(SourceError, match=rf"cannot read '.*{name}' as {fmt}: ") as info:
            fsm.process_stream(str(tmp_path / name), sink=str(tmp_path / "o.jsonl"))
        assert isinstance(info.value.__cause__, (pa.ArrowException, OSError))  # the reader's own error
        assert not (tmp_path / "o.jsonl").exists()  # nothing half-written is left


def test_a_misspelt_option_names_the_one_meant(fsm) -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'chunksize' \(did you mean 'chunk_size'\?\)"):
        fsm.process_stream([{"a": 1}], chunksize=10)
    with pytest.raises(TypeError, match=r"'memory_limit' \(did you mean 'memory_limit_mb'\?\)"):
        (fsm | fsm).process_stream([{"a": 1}], memory_limit=10)


def test_repeated_csv_header_names_keep_every_column(tmp_path: Path, fsm) -> None:
    (tmp_path / "in.csv").write_text("a,b,a,a\n1,2,3,4\n")
    fsm.process_stream(str(tmp_path / "in.csv"), sink=str(tmp_path / "o.jsonl"))
    import polars as pl

    want = pl.read_csv(tmp_path / "in.csv").to_dicts()[0]  # polars' names for repeated columns
    assert read_jsonl(tmp_path / "o.jsonl") == [{"_row": 0, **want, "k": 1}]
