"""A first run in a fresh process pays for nothing it does not use.

pyarrow imports pandas (~0.2 s) the first time ``pa.array`` or
``Schema.empty_table`` runs with pandas installed; a stream or ``process()`` of
Arrow data never needs pandas, so a first run must not import it. Nor Ray:
only a run with ``engine="ray"`` imports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from examples.seed_network import generate_records

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
sys.path.insert(0, {root!r})
import pyarrow.parquet as pq
import streamkit
from examples.reference import REFERENCES
table = pq.ParquetFile({src!r}).read()  # pq.read_table imports pandas itself
fsm = streamkit.SimpleFSM(REFERENCES["seed"].config())
r = fsm.process(table)
r.output("output"), r.errors()
fsm.process_stream({src!r}, {out!r}, chunk_size=4096)
s = fsm.process_stream({src!r}, {jsonl!r}, chunk_size=4096)
j = fsm.process_stream({src_jsonl!r}, {out!r}, chunk_size=4096)  # JSON lines read by the flat path
assert j.total_records == s.total_records
divide = "lambda state: {{'y': 7 // state.data['value']}}"
state = {{"name": "a", "is_start": True, "functions": {{"transform": divide}}}}
net = {{"name": "m", "states": [state, {{"name": "b", "is_end": True}}], "arcs": [{{"from": "a", "to": "b"}}]}}
f = streamkit.SimpleFSM({{"networks": [net]}}).process(table)  # value 0 fails: ZeroDivisionError
f.errors()
print(json.dumps([s.total_records, r.end_state_counts, f.failed, "pandas" in sys.modules, "ray" in sys.modules]))
"""


def test_runs_of_arrow_data_never_import_pandas(tmp_path: Path) -> None:
    table = generate_records(20_000, seed=3)  # with nulls and negatives
    pq.write_table(table, tmp_path / "in.parquet")
    with (tmp_path / "in.jsonl").open("w") as f:
        f.writelines(json.dumps(r) + "\n" for r in table.to_pylist())
    code = PROBE.format(
        root=str(ROOT),
        src=str(tmp_path / "in.parquet"),
        out=str(tmp_path / "out.parquet"),
        jsonl=str(tmp_path / "out.jsonl"),
        src_jsonl=str(tmp_path / "in.jsonl"),
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    total, counts, failed, pandas_loaded, ray_loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert total == 20_000 and min(counts.values()) > 0 and failed > 0  # both end states and failures ran
    assert not pandas_loaded
    assert not ray_loaded  # installed or not, Ray is imported only by a run with engine="ray"
