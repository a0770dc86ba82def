# Every target creates .venv and installs the project if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Benchmarks run as quick tests here (one round each, 100k records unless
# STREAMKIT_BENCH_N is set); `make bench` measures them at full size.
test: $(STAMP)
	STREAMKIT_BENCH_N=$${STREAMKIT_BENCH_N:-100_000} $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/report.py

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
