# ticket_intel — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba

.PHONY: install demo test dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned, so the resolver takes the CPU wheel and never a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	ln -sf $(CURDIR)/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ticket-intel demo --warehouse data/warehouse.duckdb

test: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pytest -q

dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $${PORT:-3000}

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench.embed
	$(BIN)/python -m bench.theme_quality --csv ../shared/datasets/banking77/train.csv --text-col text --label-col category

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) .cache data/warehouse.duckdb* data/warehouse.snapshot.duckdb data/reports
