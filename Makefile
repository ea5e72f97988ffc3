# The two commands of the quick start are `make run` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast dev portal lint bench bench-portal install clean

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

# Every tier: unit, asset, sql, e2e (whole-pipeline runs) and integration (real PostgreSQL and MariaDB).
# Two workers (the machines have two cores); a file's tests stay on one worker, so a module's fixture runs once.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Everything but the whole-pipeline runs, the portal and the real servers: the tier to run while working (under 2 minutes).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not integration and not portal"

# The Dagster UI on http://127.0.0.1:3000 (asset graph, runs, checks).
dev: $(STAMP)
	$(BIN)/statedata dev

# The review portal on http://127.0.0.1:8000 (docs/portal.md); `statedata demo` made its demo users.
portal: $(STAMP)
	$(BIN)/statedata portal

# Style, format, and the import contracts of docs/architecture.md (pinned tools: requirements.lock).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Whole pipeline at `large` scale, beside the I/O floor measured in the same invocation: a full run, a run with
# no source change and one after 1% of the rows changed; wall time, peak memory, ratio to the floor, time per stage.
bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py --scale large

# The review portal's pages on the `large` demo (built under the temporary folder when missing), signed by every
# department: first and following requests per page, the re-test and the package gate, peak memory.
bench-portal: $(STAMP)
	$(BIN)/python scripts/bench_portal.py --seed

clean:
	rm -rf $(VENV) data
