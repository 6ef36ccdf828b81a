# Quick start: `make run` (set-up + the whole pipeline on the synthetic census), then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCALE ?= 0.1
YEARS ?= 2013-2020
SEED ?= 1
PROFILE ?= ees
CIN_DATA_DIR ?= $(CURDIR)/data
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export SCALE YEARS SEED PROFILE CIN_DATA_DIR DAGSTER_HOME

.PHONY: install run ui test lint format benchmark clean-data

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## Generate the census if needed and materialise every asset for every reporting year. The published files
## follow PROFILE: ees (default, today's EES standard) or release2020 (the 2020 layout): PROFILE=release2020 make run.
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/cin-run --years $(YEARS) --scale $(SCALE) --seed $(SEED) --profile $(PROFILE)

## The Dagster UI on http://127.0.0.1:$(UI_PORT), with the daemon: the run queue, backfills and sensors
## (the failure-alert sensor runs by default; alert links point at CIN_DAGSTER_URL). See docs/deployment.md.
UI_PORT ?= 3000
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	CIN_DAGSTER_URL=$${CIN_DAGSTER_URL:-http://127.0.0.1:$(UI_PORT)} \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

test: $(STAMP) lint
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check cin_assets cin_assets_tests benchmarks tools
	$(BIN)/ruff format --check cin_assets cin_assets_tests benchmarks tools

format: $(STAMP)
	$(BIN)/ruff format cin_assets cin_assets_tests benchmarks tools
	$(BIN)/ruff check --fix cin_assets cin_assets_tests benchmarks tools

## National-scale benchmarks (not part of make test): see benchmarks/README.md.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py

clean-data:
	rm -rf $(CIN_DATA_DIR)/census $(CIN_DATA_DIR)/staging $(CIN_DATA_DIR)/published $(CIN_DATA_DIR)/alerts
