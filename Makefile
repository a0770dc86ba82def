# Every target creates .venv and installs the project if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-ray lint bench bench-quick bench-all-reports bench-core bench-stream bench-status bench-events bench-runtime bench-executor bench-submit bench-ray clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,ray]'
	# compile streamkit's kernels and the demo network's once, now, so a first run is as fast as the next
	$(BIN)/python -m streamkit warm examples/seed_streaming.yaml --sample examples/seed_sample.jsonl
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Benchmarks run as quick tests here (one round each, 100k records unless
# STREAMKIT_BENCH_N is set); `make bench` measures them at full size.
# Style and types first (seconds), then the tests, on every core (at most 4).
test: $(STAMP) lint
	STREAMKIT_BENCH_N=$${STREAMKIT_BENCH_N:-100_000} $(BIN)/python -m pytest -q -n auto --maxprocesses 4 -m "not ray"
	$(MAKE) --no-print-directory test-ray

# The Ray engine's tests (marked `ray`; the `ray` extra is installed with the project): one Ray
# instance on two cores per test module, in one process (a Ray instance per xdist worker would
# overload the machine). RAY_TESTS: the modules holding tests marked `ray` (collecting only them
# saves ~5 s); the guide's examples that need Ray run there too. ~40 s.
RAY_TESTS := tests/test_engine_ray.py
test-ray: $(STAMP)
	$(BIN)/python -m pytest -q -m ray -p no:xdist --durations=5 $(RAY_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# `make bench` runs the suite (benchmarks/suite.py): every report, written to
# benchmarks/results/<date>-<time>/ (report.md, figures.json, charts); options in
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--only core,stream --compare OLD/figures.json".
# `make bench-quick` is the CI-sized run. `make bench-all-reports` prints every report
# as before, without writing results; each one alone with its own target.
# bench-core: in memory, one table per job (seed 002 on a 2M-row table, the flights
#   ETL, text building): streamkit first call and steady state vs polars' one query
#   and per-record Python loops, compile times, targets.
# bench-stream: file to file (seed JSONL/Parquet at 3M and 10M, flights JSONL ->
#   Parquet): streamkit with default settings vs polars' fastest form.
# bench-status: the status index.
# bench-events: events (seed 003) in networks against the same work without the engine.
# bench-runtime: the runtime (seed 001): jobs/s, a network flow's records/s, isolation, memory.
# bench-submit: submissions (seed 004): runs submitted and waited for, the concurrency bound.
# bench-executor: the executor (seed 000): events/s at 10k and 100k, "which are completed" at 10k and 1M.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.suite $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.suite --quick $(BENCH_ARGS)

bench-all-reports: bench-core bench-status bench-stream bench-events bench-runtime bench-executor bench-submit

bench-core: $(STAMP)
	$(BIN)/python benchmarks/report.py

bench-stream: $(STAMP)
	$(BIN)/python benchmarks/stream_report.py

bench-status: $(STAMP)
	$(BIN)/python benchmarks/status_report.py

bench-events: $(STAMP)
	$(BIN)/python benchmarks/events_report.py

bench-runtime: $(STAMP)
	$(BIN)/python benchmarks/runtime_report.py

bench-submit: $(STAMP)
	$(BIN)/python benchmarks/submit_report.py

bench-executor: $(STAMP)
	$(BIN)/python benchmarks/executor_report.py

# bench-ray: the Ray engine vs local threads (JSONL -> JSONL, 10M) and a Ray Data stage vs polars
bench-ray: $(STAMP)
	$(BIN)/python benchmarks/ray_report.py

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
