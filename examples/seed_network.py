"""The seed 002 streaming network and a fast generator for its input records.

``create_streaming_fsm_config()`` is copied verbatim from seed 002 (same inline
code strings), so benchmarks and examples run exactly the network a seed user
knows; ``create_data_cleaner_config()`` is the seed's pipeline stage 1
(``DataCleaner``, from its ``example_pipeline_streaming``), verbatim too. The
streaming network's logic written by hand (per record, and as a polars query)
is ``examples/reference.py``. ``generate_records`` builds the seed's record shape (``id``, ``value``,
``category``, ``status``) as a ``pyarrow.Table`` with numpy, fast enough for
tens of millions of rows, with some null and negative values so that every
route of the network (error / low / medium / high tier) is exercised.

Run it::

    python examples/seed_network.py [n]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

__all__ = ("create_streaming_fsm_config", "create_data_cleaner_config", "generate_records", "CATEGORIES", "MAX_VALUE")

#: The seed's categories, ``f'cat_{i % 5}'``.
CATEGORIES = tuple(f"cat_{k}" for k in range(5))

#: Upper bound (inclusive) of generated non-negative values; spans all three tiers
#: of the network (``low`` <= 1000 < ``medium`` <= 5000 < ``high``).
MAX_VALUE = 100_000


def create_streaming_fsm_config():
    """
    Create an FSM configuration that processes streaming data.

    Processing stages:
    1. Input → Validate: Check data validity
    2. Validate → Enrich/Error: Route based on validation
    3. Enrich → Categorize: Add calculated fields
    4. Categorize → Output: Final transformation and classification
    """
    config = {
        "name": "StreamingProcessor",
        "main_network": "main",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "input", "is_start": True},
                    {
                        "name": "validate",
                        "functions": {
                            "transform": {
                                "type": "inline",
                                "code": """lambda state: {
                                **state.data,
                                'valid': state.data.get('value') is not None
                                        and state.data.get('value') >= 0
                            }""",
                            }
                        },
                    },
                    {
                        "name": "enrich",
                        "functions": {
                            "transform": {
                                "type": "inline",
                                "code": """lambda state: {
                                'id': state.data['id'],
                                'original_value': state.data['value'],
                                'doubled_value': state.data['value'] * 2,
                                'squared_value': state.data['value'] ** 2,
                                'category': state.data['category'],
                                'status': 'enriched'
                            }""",
                            }
                        },
                    },
                    {
                        "name": "categorize",
                        "functions": {
                            "transform": {
                                "type": "inline",
                                "code": """lambda state: {
                                **state.data,
                                'value_tier': 'high' if state.data['original_value'] > 5000
                                            else 'medium' if state.data['original_value'] > 1000
                                            else 'low',
                                'status': 'processed',
                                'risk_score': min(100, state.data['squared_value'] / 100)
                            }""",
                            }
                        },
                    },
                    {"name": "output", "is_end": True},
                    {"name": "error", "is_end": True},
                ],
                "arcs": [
                    {"from": "input", "to": "validate"},
                    {
                        "from": "validate",
                        "to": "enrich",
                        "condition": {"type": "inline", "code": "lambda state: state.data.get('valid', True)"},
                    },
                    {
                        "from": "validate",
                        "to": "error",
                        "condition": {"type": "inline", "code": "lambda state: not state.data.get('valid', True)"},
                    },
                    {"from": "enrich", "to": "categorize"},
                    {"from": "categorize", "to": "output"},
                ],
            }
        ],
    }

    return config


def create_data_cleaner_config():
    """The seed's pipeline stage 1 (``stage1_config`` of its ``example_pipeline_streaming``), verbatim.

    Its ``clean`` transform calls ``__import__('time').time()``, outside the
    compiled subset: it runs as per-row Python, and safe mode rejects it.
    """
    stage1_config = {
        "name": "DataCleaner",
        "main_network": "main",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "input", "is_start": True},
                    {
                        "name": "clean",
                        "functions": {
                            "transform": {
                                "type": "inline",
                                "code": """lambda state: {
                                'id': state.data['id'],
                                'value': max(0, state.data.get('value', 0)),
                                'category': state.data.get('category', '').upper(),
                                'timestamp': __import__('time').time()
                            }""",
                            }
                        },
                    },
                    {"name": "output", "is_end": True},
                ],
                "arcs": [{"from": "input", "to": "clean"}, {"from": "clean", "to": "output"}],
            }
        ],
    }
    return stage1_config


def _fixed_width_strings(pattern: bytes, n: int, *, width: int) -> pa.Array:
    """A ``string`` array of ``n`` items of ``width`` bytes each, cycling through ``pattern``.

    ``pattern`` is the concatenation of one or more ``width``-byte strings; item
    ``i`` is the ``(i % (len(pattern) // width))``-th of them.
    """
    if n * width >= 2**31:
        msg = f"{n} strings of {width} bytes do not fit in a 32-bit-offset string array"
        raise ValueError(msg)
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    reps = -(-n * width // len(pattern))
    data = np.tile(np.frombuffer(pattern, dtype=np.uint8), reps)[: n * width]
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def generate_records(
    n: int,
    *,
    seed: int = 0,
    null_fraction: float = 0.01,
    negative_fraction: float = 0.01,
) -> pa.Table:
    """Return ``n`` seed-shaped records as a ``pyarrow.Table``.

    Columns:

    - ``id`` (int64): ``0 .. n-1``, as in the seed's ``generate_streaming_data``;
    - ``value`` (int64, nullable): uniform in ``0 .. MAX_VALUE`` (the seed's
      ``i * 10``, randomized so all value tiers occur); about ``negative_fraction``
      of the rows are negative (``-1 .. -MAX_VALUE``, routed to ``error``) and
      about ``null_fraction`` are null (also ``error``: ``valid`` is ``False``);
    - ``category`` (string): ``'cat_{id % 5}'``;
    - ``status`` (string): ``'pending'``.

    Everything is built with numpy and Arrow buffers (no per-row Python), so
    10 M rows take well under a second. The same ``seed`` gives the same table.
    """
    if n < 0:
        msg = f"n must be >= 0, got {n}"
        raise ValueError(msg)
    for name, frac in (("null_fraction", null_fraction), ("negative_fraction", negative_fraction)):
        if not 0.0 <= frac <= 1.0:
            msg = f"{name} must be in [0, 1], got {frac}"
            raise ValueError(msg)
    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.int64)
    values = rng.integers(0, MAX_VALUE + 1, size=n, dtype=np.int64)
    negative = rng.random(n) < negative_fraction
    values[negative] = -rng.integers(1, MAX_VALUE + 1, size=int(negative.sum()), dtype=np.int64)
    null = rng.random(n) < null_fraction
    value_arr = pa.array(values, type=pa.int64(), mask=null if null.any() else None)

    # Every category is 'cat_<digit>' (5 bytes) and every status 'pending' (7), and
    # category cycles with the id, so both string columns are built straight from
    # offset/data buffers by tiling their bytes.
    category = _fixed_width_strings("".join(CATEGORIES).encode(), n, width=5)
    status = _fixed_width_strings(b"pending", n, width=7)
    return pa.table(
        {
            "id": pa.array(ids, type=pa.int64()),
            "value": value_arr,
            "category": category,
            "status": status,
        }
    )


def main(argv: list[str] | None = None) -> None:
    """Generate records, run the seed network over them, print the counts beside the reference's."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100_000
    table = generate_records(n)
    print(f"generated {table.num_rows:,} records; first rows:")
    print(table.slice(0, 5).to_pylist())

    from streamkit import SimpleFSM

    result = SimpleFSM(create_streaming_fsm_config()).process(table)
    print(f"per end state: {dict(result.end_state_counts)}; failed: {result.failed}")

    import polars as pl

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:  # `examples` importable however this file is started
        sys.path.insert(0, root)
    from examples.reference import REFERENCES, run_polars

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    counts = {k: v.height for k, v in run_polars(REFERENCES["seed"], frame).items()}
    print(f"the hand-written polars query (examples/reference.py): {counts}")


if __name__ == "__main__":
    main()
