# Two entry points (README "Quick start"): `make demo` and `make test`.
# Both create .venv on first use; torch is pinned to the CPU build (see pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Local raw-data mirror for offline machines and CI: ../shared/data when it exists.
export CFTRAIN_DATA_MIRROR ?= $(if $(wildcard ../shared/data/SHA256SUMS),$(abspath ../shared/data),)

.PHONY: setup demo test test-slurm lint bench

$(BIN)/cftrain-ready: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,workflow]'
	touch $@

setup: $(BIN)/cftrain-ready

demo: setup
	$(BIN)/python -m cftrain.demo

# The default suite runs first: installing the Slurm packages slows every snakemake call by
# ~10 s whenever no slurmctld answers (tests/cluster/slurm.sh down removes the config for that).
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2
	$(MAKE) test-slurm

# The Slurm tests on a real one-node cluster, brought up here and down again even on failure.
test-slurm: setup
	trap 'tests/cluster/slurm.sh down' EXIT; tests/cluster/slurm.sh up && \
		$(BIN)/python -m pytest -m slurm -p no:xdist

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python -m benchmarks.run
