# The two commands of the quick start are `make run` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test dev lint bench install clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Generate the demo campus (if absent) and run the whole pipeline for the current academic year.
run: $(STAMP)
	$(BIN)/statedata demo --if-missing
	$(BIN)/statedata run

test: $(STAMP)
	$(BIN)/python -m pytest

# The Dagster UI on http://127.0.0.1:3000 (asset graph, runs, checks).
dev: $(STAMP)
	$(BIN)/statedata dev

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check .

# Whole pipeline at `large` scale: wall time, peak memory and rows/s per stage.
bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scale large

clean:
	rm -rf $(VENV) data
