"""The one result type: ``process()`` and ``process_stream()`` into memory give the same :class:`RunResult`."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from streamkit import FSMResult, RunResult, SimpleFSM, StreamResult

PASS = {
    "networks": [
        {
            "name": "main",
            "states": [{"name": "in", "is_start": True}, {"name": "out", "is_end": True}],
            "arcs": [{"from": "in", "to": "out"}],
        }
    ]
}


def test_one_result_type() -> None:
    fsm = SimpleFSM(PASS)
    assert FSMResult is RunResult and StreamResult is RunResult
    assert type(fsm.process([{"x": 1}])) is RunResult
    assert type(fsm.process_stream([{"x": 1}])) is RunResult


@pytest.mark.parametrize(
    ("records", "expected_type"),
    [
        ([{"x": 1}, {"x": 2}, {"x": 2.5}, {"x": None}, {"x": 7}], pa.float64()),  # int and float: float
        ([{"x": 1}, {"x": None}, {"x": None}, {"x": None}, {"x": 2}], pa.int64()),  # null takes any type
        ([{"x": 1}, {"x": 2}, {"x": "a"}, {"x": None}, {"x": 2.5}], None),  # no common type: a union
    ],
)
def test_types_that_drift_between_chunks_are_unified_alike_issue_14(
    records: list[dict], expected_type: pa.DataType | None
) -> None:
    fsm = SimpleFSM(PASS, chunk_size=2)  # each chunk is typed on its own
    in_memory = fsm.process(records).output("out")
    streamed = fsm.process_stream(records, chunk_size=2).output("out")
    assert in_memory.equals(streamed)
    x = in_memory.column("x")
    if expected_type is None:
        assert pa.types.is_union(x.type)
        assert x.to_pylist() == [r["x"] for r in records]  # every value exactly as the record held it
    else:
        assert x.type == expected_type
        assert x.to_pylist() == [r["x"] for r in records]


def test_to_polars_gives_mixed_columns_as_text() -> None:
    r = SimpleFSM(PASS, chunk_size=1).process([{"x": 1}, {"x": "a"}])
    assert r.to_polars("out")["x"].to_list() == ["1", "a"]


def test_counts_add_up_and_read_errors_are_failed_records() -> None:
    r = SimpleFSM(PASS).process([{"x": 1}, 5, {"x": 2}])
    assert (r.total_records, r.successful, r.failed) == (3, 2, 1)
    assert r.status_counts()["failed"] == 1 and r.ids("failed").tolist() == [1]
    [err] = r.errors().to_pylist()
    assert (err["_row"], err["error_state"], err["error_type"]) == (1, "<read>", "TypeError")


def test_records_that_end_cancelled_or_skipped_are_counted_as_such_issue_14() -> None:
    """A plan may end records skipped or cancelled: they go with the failed records, with their own status."""
    from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Group, Move
    from streamkit.status import EventStatus

    class Halting:  # a state plan that cancels odd x and skips x == 4, passing the rest on
        backend, reason = "test", None

        def run(self, group: Group, ctx: BatchContext) -> Exits:
            x = group.frame["x"].to_pylist()
            pos = np.arange(group.n) if group.rows is None else group.rows
            odd = np.array([v % 2 == 1 for v in x])
            four = np.array([v == 4 for v in x])
            rest = np.flatnonzero(~odd & ~four)
            return Exits(
                [Move(ctx.index["out"], True, pos[rest], {k: c.take(rest) for k, c in group.frame.items()})],
                [
                    Failure(
                        pos[odd],
                        group.state,
                        ["Cancelled"] * int(odd.sum()),
                        ["stopped"] * int(odd.sum()),
                        int(EventStatus.CANCELLED),
                    ),
                    Failure(pos[four], group.state, ["Skipped"], ["skipped"], int(EventStatus.SKIPPED)),
                ],
            )

    cfg = {
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "in", "is_start": True, "transform": "lambda state: {**state.data, 'y': 1}"},
                    {"name": "out", "is_end": True},
                ],
                "arcs": [{"from": "in", "to": "out"}],
            }
        ]
    }
    fsm = SimpleFSM(cfg, chunk_size=3)
    fsm.network.plan = lambda state, kinds: Halting()  # type: ignore[method-assign]
    records = [{"x": i} for i in range(8)]
    for r in (fsm.process(records), fsm.process_stream(records, chunk_size=3)):
        assert (r.total_records, r.successful, r.failed, r.cancelled, r.skipped) == (8, 3, 0, 4, 1)
        assert r.status_counts()["cancelled"] == 4 and r.ids("cancelled").tolist() == [1, 3, 5, 7]
        assert r.ids("skipped").tolist() == [4]
        assert r.errors().column("error_type").to_pylist() == [
            "Cancelled",
            "Cancelled",
            "Skipped",
            "Cancelled",
            "Cancelled",
        ]
        assert r.records("cancelled").column("_row").to_pylist() == [1, 3, 5, 7]
