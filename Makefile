# Two commands matter: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m iomscore.demo --out demo-output

# The test suite, then the static checks (type hints must pass mypy; lint must pass ruff).
test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/mypy -p iomscore
	$(BIN)/ruff check iomscore tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff check iomscore tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy -p iomscore

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .hypothesis
