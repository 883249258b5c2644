# evfleet: the two commands a newcomer needs are `make demo` and `make test`.
# Both create .venv on first use; the install stamp is keyed on pyproject.toml's hash,
# so a second call installs nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
WORKSPACE ?= evfleet-data
PYTEST_ARGS ?=

# Offline operation (DESIGN.md §8); the CLI sets the same defaults itself.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export MLFLOW_DISABLE_TELEMETRY := true
export GX_ANALYTICS_ENABLED := false
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export DO_NOT_TRACK := 1
export PREFECT_HOME ?= $(abspath $(WORKSPACE))/prefect

.PHONY: setup demo test test-all lint bench serve deploy worker clean-workspace

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,server]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)  ## create .venv and install the project (idempotent)

demo: setup  ## run the end-to-end pipeline on the embedded default
	$(BIN)/evfleet run --workspace $(WORKSPACE)

test: setup  ## the default test suite (fast; excludes slow and bench)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: setup  ## every test, slow ones included
	$(BIN)/python -m pytest -m "not bench" $(PYTEST_ARGS)

lint: setup  ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup  ## benchmarks, printing figures
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

serve: setup  ## serve the prefect.yaml deployments from this process (needs PREFECT_API_URL)
	$(BIN)/python -m deployments.serve

deploy: setup  ## register the prefect.yaml deployments on the evfleet-local work pool
	$(BIN)/prefect work-pool create evfleet-local --type process --overwrite
	EVFLEET_PROJECT_DIR=$(CURDIR) $(BIN)/prefect deploy --all

worker: setup  ## run a worker for the evfleet-local work pool
	EVFLEET_PROJECT_DIR=$(CURDIR) $(BIN)/prefect worker start --pool evfleet-local

clean-workspace:  ## delete the default workspace (all generated data)
	rm -rf $(WORKSPACE)
