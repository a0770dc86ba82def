"""The public API as a type checker sees it (``mypy`` checks this file in ``make test``).

Each ``assert_type`` fails the type check if a public signature loses its types;
each ``# type: ignore[...]`` fails it (``warn_unused_ignores``) if a misuse stops
being an error. At run time the file is an ordinary test.
"""

from __future__ import annotations

from typing import assert_type

import pyarrow as pa
import pytest

import streamkit
from streamkit import RunResult, SimpleFSM, StatusIndex, StreamConfig

CONFIG = {
    "name": "typed",
    "networks": [
        {
            "name": "main",
            "states": [
                {
                    "name": "in",
                    "is_start": True,
                    "functions": {"transform": "lambda state: {'y': state.data['x'] * 2}"},
                },
                {"name": "out", "is_end": True},
            ],
            "arcs": [{"from": "in", "to": "out"}],
        }
    ],
}


def test_results_are_typed() -> None:
    fsm = SimpleFSM(CONFIG)
    result = fsm.process([{"x": 1}, {"x": None}])
    assert_type(result, RunResult)
    assert_type(result.successful, int)
    assert_type(result.output("out"), pa.Table)
    assert result.output("out").column("y").to_pylist() == [2]
    assert result.failed == 1


def test_stream_options_are_checked() -> None:
    fsm = SimpleFSM(CONFIG)
    result = fsm.process_stream([{"x": 3}], chunk_size=10, parallelism=1, preserve_order=True)
    assert_type(result, RunResult)
    assert result.successful == 1
    with pytest.raises(TypeError, match="chunk_sise"):
        fsm.process_stream([{"x": 3}], chunk_sise=10)  # type: ignore[call-arg]
    with pytest.raises((TypeError, ValueError)):
        fsm.process_stream([{"x": 3}], chunk_size="10")  # type: ignore[arg-type]
    assert_type(StreamConfig(chunk_size=10).chunk_size, int)


def test_status_index_is_typed() -> None:
    index = StatusIndex()
    index.add([7, 8], "pending")
    assert_type(index.count("pending"), int)
    assert index.count("pending") == 2
    assert_type(index.counts(), dict[str, int])


def test_every_public_name_is_exported() -> None:
    assert set(streamkit.__all__) <= set(dir(streamkit))
