# Entry points (README "Quick start"): `make paper`, `make test`, and `make smoke`; the record
# (docs/record.md): `make record`, `make record-smoke`, `make paper-from-record`.
# Each creates .venv on first use; torch is pinned to the CPU build (see pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Local raw-data mirror for offline machines and CI: ../shared/data when it exists.
export CFTRAIN_DATA_MIRROR ?= $(if $(wildcard ../shared/data/SHA256SUMS),$(abspath ../shared/data),)
# the workflow's rules call the `cftrain` command of this environment
SNAKEMAKE := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake

.PHONY: setup paper smoke demo test test-unit test-integration test-slurm lint bench record record-smoke \
	paper-from-record

$(BIN)/cftrain-ready: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,workflow]'
	touch $@

setup: $(BIN)/cftrain-ready
	@.ci/install-tex.sh  # TeX Live for the paper where root on Debian/Ubuntu, else what to install

paper: setup
	$(SNAKEMAKE) --cores all

smoke: setup
	$(SNAKEMAKE) --cores all --config scale=smoke

# The record (docs/record.md): run the full reproduction (a no-op when it is finished), then
# copy its final outputs to record/, write record/manifest.csv and the archive to deposit,
# results/archive/cftrain-record-paper.tar.gz. Commit record/; upload the archive.
record: setup
	$(SNAKEMAKE) --cores all --configfile config/reproduction.yaml
	$(BIN)/cftrain record pack --results results --record record

# The smoke record the fresh-clone test compares with (tables only, record/smoke/).
record-smoke: setup
	$(SNAKEMAKE) --cores all --config scale=smoke
	$(BIN)/cftrain record pack --results results/smoke --record record/smoke --tables-only

# Only the paper, from the committed record's tables and figures: results/from_record/paper/paper.pdf
paper-from-record: setup
	$(SNAKEMAKE) --cores all --config paper_from=record

demo: setup
	$(BIN)/python -m cftrain.demo

# Three tiers (README): unit, integration (workflow, paper, real data), then Slurm. The Slurm
# tier runs last: installing the Slurm packages slows every snakemake call by ~10 s whenever
# no slurmctld answers (tests/cluster/slurm.sh down removes the config for that). A tier that
# collects no test fails (pytest's exit status 5).
PYTEST := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup

test: setup
	$(BIN)/ruff check .
	$(MAKE) test-unit test-integration test-slurm

test-unit: setup
	$(PYTEST) -m "not integration and not slow and not slurm"

test-integration: setup
	$(PYTEST) -m "integration and not slow and not slurm"

# The Slurm tests on a real one-node cluster, brought up here and down again even on failure.
test-slurm: setup
	trap 'tests/cluster/slurm.sh down' EXIT; tests/cluster/slurm.sh up && \
		PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -m "slurm and not slow" -p no:xdist

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(SNAKEMAKE) --lint

bench: setup
	$(BIN)/python -m benchmarks.run
