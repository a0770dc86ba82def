"""The ``streamkit`` command: run (sinks, JSON summary, progress, exit codes, safe mode, Ctrl-C), validate,
explain, graph, warm, and help that fits a screen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from streamkit.cli import EXIT_BAD_INPUT, EXIT_FAILED_RECORDS, EXIT_INTERRUPTED, EXIT_OK, main
from tests.checkpoint_helpers import Stop, joined, stop_after

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "seed_streaming.yaml")
SAMPLE = str(ROOT / "examples" / "seed_sample.jsonl")


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def yaml_net(path: Path, transform: str) -> str:
    path.write_text(
        "name: t\nnetworks:\n  - name: main\n    states:\n"
        f"      - {{name: a, is_start: true, functions: {{transform: {json.dumps(transform)}}}}}\n"
        "      - {name: b, is_end: true}\n    arcs:\n      - {from: a, to: b}\n"
    )
    return str(path)


def test_run_writes_the_sinks_and_a_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.parquet"
    errors = tmp_path / "bad.jsonl"
    code, stdout, stderr = cli(
        "run", SEED, "--source", SAMPLE, "--sinks", f"output={out}", "--sinks", f"error={tmp_path / 'err.jsonl'}",
        "--error-sink", str(errors), "--parallelism", "2", "--json", capsys=capsys,
    )  # fmt: skip
    assert code == EXIT_OK
    summary = json.loads(stdout)
    assert summary["total_records"] == 200 and summary["end_state_counts"] == {"output": 180, "error": 20}
    assert pq.read_table(out).num_rows == 180
    assert (tmp_path / "err.jsonl").read_text().count("\n") == 20
    assert "200 records" in stderr  # progress lines: stderr is not a terminal here


def test_run_without_a_sink_counts_only_and_quiet_prints_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, stderr = cli("run", SEED, "--source", SAMPLE, "-q", capsys=capsys)
    assert code == EXIT_OK and stderr == ""
    assert "200 records in" in stdout and "output 180, error 20; failed 0" in stdout


def test_fail_on_errors_exits_1_when_records_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"x": 1}\n{"x": 0}\nnot json\n')
    cfg = yaml_net(tmp_path / "div.yaml", "lambda state: {'y': 10 // state.data['x']}")
    code, stdout, _ = cli("run", cfg, "--source", str(data), "-q", "--json", "--fail-on-errors", capsys=capsys)
    assert code == EXIT_FAILED_RECORDS and json.loads(stdout)["failed"] == 2  # a zero division and a bad line
    code, _, _ = cli("run", cfg, "--source", str(data), "-q", capsys=capsys)
    assert code == EXIT_OK


def test_safe_mode_refuses_inline_python_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = yaml_net(tmp_path / "py.yaml", "lambda state: {'keys': ','.join(sorted(state.data))}")
    code, _, stderr = cli("run", cfg, "--source", SAMPLE, "-q", capsys=capsys)
    assert code == EXIT_BAD_INPUT and "unsupported construct" in stderr and "--allow-python" in stderr
    with pytest.warns(Warning, match="per-record Python"):
        code, stdout, _ = cli("run", cfg, "--source", SAMPLE, "-q", "--allow-python", capsys=capsys)
    assert code == EXIT_OK and "b 200" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yaml", "--source", SAMPLE], "no config file 'missing.yaml'"),
        (["run", SEED, "--source", "no/such.jsonl", "-q"], "no/such.jsonl"),
        (["run", SEED, "--source", SAMPLE, "--sinks", "nowhere"], "--sinks takes END=PATH"),
        (["run", SEED, "--source", SAMPLE, "--sinks", "outptu=x.jsonl"], "no end state 'outptu'"),
        (["run", SEED, "--source", SAMPLE, "--parallelism", "0"], "0"),
        (["run", SEED], "--source"),
        (["validate", "missing.yaml"], "no config file"),
    ],
)
def test_bad_input_exits_2_with_the_reason(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = cli(*args, capsys=capsys)
    assert code == EXIT_BAD_INPUT and message in stderr


def test_validate_and_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = cli("validate", SEED, capsys=capsys)
    assert code == EXIT_OK and stdout.startswith("ok: StreamingProcessor: 1 network(s), 6 states, 5 arcs")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: b\nnetworks:\n  - name: m\n    states: [{name: a, is_start: true}]\n    arcs: [{from: a, to: zz}]\n"
    )
    code, _, stderr = cli("validate", str(bad), capsys=capsys)
    assert code == EXIT_BAD_INPUT and "zz" in stderr
    code, stdout, _ = cli("explain", SEED, capsys=capsys)
    assert code == EXIT_OK and "numba" in stdout and "validate" in stdout


def test_help_fits_a_screen(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], *([c, "--help"] for c in ("run", "validate", "explain", "graph", "warm", "bench"))):
        code, stdout, _ = cli(*args, capsys=capsys)
        assert code == EXIT_OK
        lines = stdout.splitlines()
        assert len(lines) <= 40 and max(map(len, lines)) <= 100, args
        assert "..." not in stdout.split("\n", 1)[1]  # no command summary cut short (the usage line has [ARGS]...)


def test_the_installed_command_and_python_m(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "streamkit"
    for cmd in ([str(exe)], [sys.executable, "-m", "streamkit"]):
        out = subprocess.run([*cmd, "validate", SEED], capture_output=True, text=True, timeout=120, check=False)
        assert out.returncode == 0 and out.stdout.startswith("ok:"), out.stderr


def test_ctrl_c_stops_within_seconds_without_a_traceback_and_keeps_no_partial_file(tmp_path: Path) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text("".join(f'{{"id": {i}}}\n' for i in range(200_000)))
    started = tmp_path / "started"  # the transform's mark: records are running (not the imports)
    slow = (
        f"lambda state: (__import__('os').path.exists({str(started)!r}) or open({str(started)!r}, 'w').close(),"
        " __import__('time').sleep(0.0002)) and state.data"
    )
    cfg = yaml_net(tmp_path / "slow.yaml", slow)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "streamkit", "run", cfg, "--source", str(data), "--sink", str(out), "--allow-python"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not started.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # some chunks in hand (each takes ~13 s)
    assert p.poll() is None and started.exists()
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    took = time.monotonic() - t0
    assert p.returncode == EXIT_INTERRUPTED and took < 10, (took, stderr)
    assert "Traceback" not in stderr and "interrupted after" in stderr and "partial files were removed" in stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl", "slow.yaml", "started"]  # nothing half-written


def test_warm_compiles_a_config_for_its_sample(capsys: pytest.CaptureFixture[str], kernel_cache_dir: Any) -> None:
    code, stdout, _ = cli("warm", SEED, "--sample", SAMPLE, capsys=capsys)
    assert code == EXIT_OK and "warmed streamkit's kernels and 1 network(s)" in stdout


def test_graph_draws_the_network_in_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    code, mermaid, _ = cli("graph", SEED, capsys=capsys)
    assert code == EXIT_OK and mermaid.startswith("flowchart") and "validate" in mermaid
    code, dot, _ = cli("graph", SEED, "--format", "dot", capsys=capsys)
    assert code == EXIT_OK and dot.startswith("digraph") and "categorize" in dot
    out = tmp_path / "net.svg"
    code, stdout, _ = cli("graph", SEED, "--format", "svg", "-o", str(out), capsys=capsys)
    assert code == EXIT_OK and stdout == ""
    root = ET.fromstring(out.read_text())
    assert root.tag.endswith("svg") and "enrich" in out.read_text()
    code, _, stderr = cli("graph", SEED, "--format", "png", capsys=capsys)
    assert code == EXIT_BAD_INPUT and "png" in stderr


def test_bench_runs_the_suite_and_writes_its_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    code, stdout, _ = cli("bench", "--quick", "--only", "submit", "--out", str(out), capsys=capsys)
    assert code == EXIT_OK, stdout[-2000:]
    assert (out / "report.md").exists() and json.loads((out / "figures.json").read_text())
    code, _, _ = cli("bench", "--only", "nonsense", capsys=capsys)
    assert code == EXIT_BAD_INPUT


def test_run_with_a_checkpoint_resumes_into_a_directory_of_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain.jsonl"
    code, _, _ = cli("run", SEED, "--source", SAMPLE, "--sink", str(plain), "--chunk-size", "20", "-q", capsys=capsys)
    assert code == EXIT_OK
    out, ckpt = f"{tmp_path / 'out'}/", str(tmp_path / "run.ckpt")
    args = ["run", SEED, "--source", SAMPLE, "--sink", out, "--chunk-size", "20", "--checkpoint", ckpt, "-q"]
    stop_after(monkeypatch, 4)
    with pytest.raises(Stop):
        main(args)
    stop_after(monkeypatch, None)
    assert json.loads(Path(ckpt).read_text())["chunks"] == 4
    code, stdout, _ = cli(*args, "--json", capsys=capsys)  # the same command resumes
    assert code == EXIT_OK and json.loads(stdout)["total_records"] == 200
    assert joined(tmp_path / "out") == plain.read_bytes()
    assert not Path(ckpt).exists()


def test_a_checkpoint_needs_file_sinks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ckpt = str(tmp_path / "run.ckpt")
    code, _, stderr = cli("run", SEED, "--source", SAMPLE, "--checkpoint", ckpt, "-q", capsys=capsys)
    assert code == EXIT_BAD_INPUT and "--checkpoint resumes runs that write files: give --sink" in stderr
    out = str(tmp_path / "out.jsonl")
    args = ("run", SEED, "--source", SAMPLE, "--sinks", f"output={out}", "--checkpoint", ckpt, "-q")
    code, _, stderr = cli(*args, capsys=capsys)
    assert code == EXIT_BAD_INPUT and "end state 'error' has no sink" in stderr
