# Quick start: `make run` (set-up + the whole pipeline on the synthetic census), then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCALE ?= 0.1
YEARS ?= 2013-2020
SEED ?= 1
PROFILE ?= ees
SUPPRESSION ?= dfe
CIN_DATA_DIR ?= $(CURDIR)/data
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export SCALE YEARS SEED PROFILE SUPPRESSION CIN_DATA_DIR DAGSTER_HOME

.PHONY: install run ui test lint format benchmark fidelity clean-data snapshot

install: $(STAMP)

# uv from PyPI (the version pyproject.toml's [tool.uv] requires) installs exactly uv.lock: every package
# pinned with its hashes, the project editable, the dev group (tests, ruff, pyright, dg) included.
UV_VERSION := 0.13.9
$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/uv --version 2>/dev/null | grep -qx "uv $(UV_VERSION)" || \
		{ $(BIN)/python -m ensurepip --upgrade >/dev/null && \
		  $(BIN)/python -m pip install --quiet --index-url https://pypi.org/simple uv==$(UV_VERSION); }
	$(BIN)/uv sync --frozen --quiet
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## Generate the census if needed and materialise every asset for every reporting year. The published files
## follow PROFILE: ees (default, today's EES standard) or release2020 (the 2020 layout): PROFILE=release2020 make run.
## Secondary suppression follows SUPPRESSION: dfe (default: nothing recoverable exactly) or strict (nor provably below 6).
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/cin-run --years $(YEARS) --scale $(SCALE) --seed $(SEED) --profile $(PROFILE) --suppression $(SUPPRESSION)

## The Dagster UI on http://127.0.0.1:$(UI_PORT), with the daemon: the run queue, backfills and sensors
## (the failure-alert sensor runs by default; alert links point at CIN_DAGSTER_URL). See docs/deployment.md.
UI_PORT ?= 3000
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	CIN_DAGSTER_URL=$${CIN_DAGSTER_URL:-http://127.0.0.1:$(UI_PORT)} \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

test: $(STAMP) lint
	$(BIN)/pytest -n 2 --dist loadfile

## Style, types (pyright basic, as basedpyright bundles it with node) and the code location as every
## Dagster tool loads it: through [tool.dagster] and through dg's [tool.dg] project.
lint: $(STAMP)
	$(BIN)/ruff check cin_assets cin_assets_tests benchmarks tools
	$(BIN)/ruff format --check cin_assets cin_assets_tests benchmarks tools
	$(BIN)/basedpyright cin_assets
	DAGSTER_HOME= $(BIN)/dagster definitions validate
	VIRTUAL_ENV=$(CURDIR)/$(VENV) DAGSTER_HOME= $(BIN)/dg check defs

format: $(STAMP)
	$(BIN)/ruff format cin_assets cin_assets_tests benchmarks tools
	$(BIN)/ruff check --fix cin_assets cin_assets_tests benchmarks tools

## National-scale benchmarks (not part of make test): see benchmarks/README.md.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py

## Fidelity report: a scale-1 census of FIDELITY_YEARS (generated under FIDELITY_CENSUS if missing) against
## every real published figure in data/reference, with the suppression comparison (see benchmarks/fidelity.py).
FIDELITY_YEARS ?= 2019,2020
FIDELITY_CENSUS ?= /tmp/fidelity/census
fidelity: $(STAMP)
	nice -n 10 $(BIN)/python benchmarks/fidelity.py --census $(FIDELITY_CENSUS) --years $(FIDELITY_YEARS) \
		--seed $(SEED) --out $(FIDELITY_CENSUS)/../report

clean-data:
	rm -rf $(CIN_DATA_DIR)/census $(CIN_DATA_DIR)/staging $(CIN_DATA_DIR)/published $(CIN_DATA_DIR)/releases \
		$(CIN_DATA_DIR)/alerts

## Rewrite the code location snapshot (cin_assets_tests/snapshots/definitions.json) after an intended change.
snapshot: $(STAMP)
	CIN_UPDATE_SNAPSHOT=1 $(BIN)/pytest cin_assets_tests/test_definitions.py -q -p no:randomly -n 0
