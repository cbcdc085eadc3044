# ticket_intel — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WAREHOUSE := data/warehouse.duckdb
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba

.PHONY: install demo test dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned, so the rest resolves against it. Plain PyPI's Linux wheel pulls the CUDA
# packages (GBs); `make TORCH_INDEX=https://download.pytorch.org/whl/cpu demo` takes the CPU build
# (an index configured for pip, as on the CI machine, is used as it is).
TORCH_INDEX ?=
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The warehouse's Dagster instance and reports live beside it (data/warehouse_dagster/, data/warehouse_reports/).
demo: install
	$(BIN)/ticket-intel demo --warehouse $(WAREHOUSE)

# CI runs exactly this (.ci/run): the definitions load and validate, then the whole test suite.
test: install
	$(BIN)/dg check defs
	$(BIN)/python -m pytest -q

dev: install
	$(BIN)/ticket-intel dev --warehouse $(WAREHOUSE) --port $${PORT:-3000}

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench.embed
	$(BIN)/python -m bench.theme_quality --csv ../shared/datasets/banking77/train.csv --text-col text --label-col category

clean:
	rm -rf $(VENV) .cache data/warehouse.duckdb* data/warehouse.snapshot.duckdb data/warehouse_dagster data/warehouse_reports data/warehouse_parse_cache
