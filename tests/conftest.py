"""Shared test fixtures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from filelock import FileLock

import workflow_helpers as workflow
from cftrain.pipeline import config as cfg

# The raw-data mirror sits beside the clone (../shared/data), locally and in CI.
DATA_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_mirror() -> Path:
    """The raw-data mirror; tests of real datasets fail (never skip) without it."""
    if not (DATA_MIRROR / "SHA256SUMS").is_file():
        pytest.fail(
            f"raw-data mirror not found at {DATA_MIRROR} (expected ../shared/data beside the "
            "repository, with SHA256SUMS); the real-dataset tests need it"
        )
    return DATA_MIRROR


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread per test process: `pytest -n 2` on 2 cores with 2 threads each made
    small-tensor training runs about 20× slower through oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory, data_mirror) -> dict:
    """The two smoke runs of :func:`_smoke_runs`, made once per pytest run: xdist workers
    share them through a lock and a record in the run's common temporary folder."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # workers' folders share the run's parent
        root = root.parent
    record = root / "smoke_runs.json"
    with FileLock(str(root / "smoke_runs.lock")):
        if not record.is_file():
            runs = _smoke_runs(root)
            record.write_text(json.dumps({k: sorted(v) for k, v in runs.items()}))
    runs = json.loads(record.read_text())
    return {
        "a": Path(runs["a"][0]),
        "a_output": Path(runs["a_output"][0]),
        "b": Path(runs["b"][0]),
        "before": set(runs["before"]),
        "trained": set(runs["trained"]),
    }


def _smoke_runs(root: Path) -> dict[str, set[str]]:
    """Run A: the smoke workflow straight through in a fresh clone of the working tree, with
    the clone's own code (issue 24), its cells trained in batches. Run B: the repository's
    workflow in an empty folder with one cell per training job (``train_batch_size=1``, the
    K = 1 path), SIGKILLed (with its jobs) once a third of the models were written, then
    resumed with --rerun-incomplete."""
    a = workflow.fresh_clone(root / "smoke_a")
    env = workflow.run_env(PYTHONPATH=str(a / "src"))
    run = workflow.snakemake(a, "--cores", "2", *workflow.SMOKE, env=env, repo=a)
    output = root / "smoke_a.out"
    output.write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stderr[-5000:]

    b = root / "smoke_b"
    b.mkdir()
    n_train = sum(
        len(b.cells)
        for b in cfg.training_batches(cfg.resolve({"scale": "smoke"}, workflow.ROOT)[1].values())
    )
    proc = subprocess.Popen(
        workflow.command(b, "--cores", "2", *workflow.SMOKE, "train_batch_size=1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=workflow.run_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + workflow.TIMEOUT_S
    while len(list(b.glob(workflow.SMOKE_MODELS))) < n_train // 3:
        assert proc.poll() is None, "the smoke run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    models = {str(p.relative_to(b)) for p in b.glob(workflow.SMOKE_MODELS)}
    before = models - workflow.incomplete(b)
    unlock = workflow.snakemake(
        b, "--unlock", *workflow.SMOKE, "train_batch_size=1"
    )  # a killed Snakemake leaves its lock behind
    assert unlock.returncode == 0, unlock.stderr
    resumed = time.time()
    time.sleep(0.05)
    rerun = workflow.snakemake(
        b, "--cores", "2", "--rerun-incomplete", *workflow.SMOKE, "train_batch_size=1"
    )
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    trained = {
        str(p.relative_to(b)) for p in b.glob(workflow.SMOKE_MODELS) if p.stat().st_mtime > resumed
    }
    return {
        "a": {str(a)},
        "a_output": {str(output)},
        "b": {str(b)},
        "before": before,
        "trained": trained,
    }


#: the integration tier: whole workflow runs (smoke, paper and LaTeX build, Snakemake on bad
#: input), real raw-data builds, the README's examples and the statistical reproduction
#: checks; everything else is the unit tier (``make test-unit``)
INTEGRATION_FILES = frozenset(
    {
        "test_workflow.py",
        "test_paper_workflow.py",
        "test_bad_input_workflow.py",
        "test_data_real.py",
        "test_readme.py",
        "test_reproduction_synthetic.py",
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in INTEGRATION_FILES:
            item.add_marker(pytest.mark.integration)
