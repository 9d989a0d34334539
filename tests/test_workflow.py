"""The Snakemake workflow end to end (issue 14): lint, the full DAG's job counts, bad input,
the smoke run, an interrupted and resumed smoke run, determinism.

Every run works in its own temporary directory (``--directory``), with the repository's
Snakefile, so nothing is written into the checkout. Two smoke runs are shared by the tests
through a session fixture: an uninterrupted one, and one killed midway and resumed.
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain.pipeline import config as cfg
from cftrain.pipeline import jobs
from workflow_helpers import ROOT, SMOKE, run_env, snakemake


def job_counts(output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table (rule → count)."""
    block = output.split("Job stats:")[1]
    counts = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def all_targets(workdir: Path, *config: str) -> list[str]:
    """The input files of ``rule all`` as the DAG computes them (a forced dry run)."""
    run = snakemake(workdir, "-n", "--forceall", *config)
    assert run.returncode == 0, run.stderr + run.stdout
    match = re.search(r"rule all:\n\s+input: (.*)\n", run.stdout)
    assert match, run.stdout
    return match.group(1).split(", ")


def tables(workdir: Path) -> dict[str, bytes]:
    """Every aggregated table (CSV and LaTeX) except the wall times, by relative path."""
    files = [*workdir.glob("results/*/tables/*"), *workdir.glob("results/tables/*")]
    return {
        str(p.relative_to(workdir)): p.read_bytes() for p in files if "wall_times" not in p.name
    }


def test_lint_has_no_findings(tmp_path):
    for config in ([], SMOKE, ["--config", "experiments=[initial_grid,gen_params,tune]"]):
        run = snakemake(tmp_path, "--lint", *config)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Congratulations" in run.stdout + run.stderr


def test_snakefmt_has_nothing_to_change():
    run = subprocess.run(
        [str(Path(sys.executable).parent / "snakefmt"), "--check", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_full_dry_run_has_the_jobs_the_config_implies(tmp_path):
    run = snakemake(tmp_path, "-n")
    assert run.returncode == 0, run.stderr
    counts = job_counts(run.stdout)
    _, experiments = cfg.resolve({}, ROOT)
    expected = collections.Counter(j.rule for j in cfg.plan(experiments.values()))
    expected.update({"main_table": 1, "wall_times": 1, "all": 1})
    assert {rule: counts.get(rule) for rule in expected} == dict(expected)
    single = experiments["single"]
    cells = sum(len(e.datasets) * len(e.cells) * len(e.seeds) for e in experiments.values())
    shared = 2 * len(experiments["ablation"].datasets)  # ablation's full and vanilla: single's
    batches = cfg.training_batches(experiments.values())
    assert sum(len(b.cells) for b in batches) == cells - shared
    assert all(expected[b.rule] == 1 for b in batches)
    assert len(single.datasets) == 9 and expected["data"] == 9


def test_bad_config_value_fails_before_any_job(tmp_path):
    run = snakemake(tmp_path, "--cores", "1", "--config", "device=gpu")
    assert run.returncode != 0
    assert "'gpu' is not one of ['auto', 'cpu', 'cuda']" in run.stderr  # Snakemake's validate
    assert "schema['properties']['device']" in run.stderr
    overlay = '{"experiments": [single], "overrides": {"single": {"datasets": [moonz]}}}'
    run = snakemake(tmp_path, "--cores", "1", "--config", f"paper={overlay}")
    assert run.returncode != 0
    assert "config/experiments/single.yaml: key 'datasets.0'" in run.stderr
    assert "'moonz' is not one of ['lin_sep'" in run.stderr
    assert not (tmp_path / "results").exists()


def test_missing_raw_file_stops_before_any_job(tmp_path):
    env = run_env(CFTRAIN_DATA_MIRROR=str(tmp_path / "no-mirror"))
    run = snakemake(tmp_path, "--cores", "1", "--config", "experiments=[single]", env=env)
    assert run.returncode != 0
    assert "give_me_some_credit/cs-training.csv" in run.stderr
    assert "Kaggle requires a login" in run.stderr
    assert not (tmp_path / "results").exists()


SMOKE_GROUP = pytest.mark.xdist_group("workflow_smoke")  # one worker shares the smoke runs


@SMOKE_GROUP
def test_smoke_run_produces_every_target(smoke_runs):
    a = smoke_runs["a"]
    targets = all_targets(a, *SMOKE)
    assert any(t.endswith("initial_grid/tables/initial_grid.csv") for t in targets)
    for target in targets:
        assert (a / target).stat().st_size > 0, target
    main = pd.read_csv(a / "results" / "tables" / "main.csv")
    assert set(main["metric"]) == {"ip", "mmd", "cost"}
    grid = pd.read_csv(a / "results" / "initial_grid" / "tables" / "initial_grid.csv")
    assert set(grid["generator"]) == {"ecco", "generic", "omniscient", "revise"}
    assert set(grid["protocol"]) == {"ecco", "own"} and set(grid["step_size"]) == {0.1}
    log = (a / "results/logs/train/single/moons/b000.log").read_text()  # the batch of full
    assert re.search(r"trained single/moons/full/seed0: 4 epochs, accuracy \d\.\d{3}", log)
    grid = [json.loads(p.read_text()) for p in a.glob("results/initial_grid/*/*/*/params.json")]
    assert max(p["k"] for p in grid) > 1  # the grid trained in batches
    assert "\r" not in log  # no progress bars in logs
    assert "Nothing to be done" in snakemake(a, "-n", *SMOKE).stdout


@SMOKE_GROUP
def test_killed_run_resumes_only_missing_jobs_with_identical_tables(smoke_runs):
    before, trained = smoke_runs["before"], smoke_runs["trained"]
    everything = {
        str(p.relative_to(smoke_runs["b"])) for p in smoke_runs["b"].glob("results/**/model.pt")
    }
    assert before and trained, "the run was not interrupted midway"
    assert not before & trained  # finished jobs were not run again
    assert before | trained == everything
    assert tables(smoke_runs["b"]) == tables(smoke_runs["a"])


@SMOKE_GROUP
def test_two_runs_with_the_same_seed_give_identical_results(smoke_runs):
    """Run A trained its cells in batches, run B one cell per job (and was killed midway):
    the same models bitwise, the same evaluations and tables (issue 25)."""
    a, b = smoke_runs["a"], smoke_runs["b"]
    assert tables(a) and tables(a) == tables(b)
    for path in a.glob("results/**/eval/*.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(path), pd.read_parquet(b / path.relative_to(a))
        )
    for path in a.glob("results/**/model.pt"):
        other = torch.load(b / path.relative_to(a), weights_only=True)
        for key, value in torch.load(path, weights_only=True).items():
            assert torch.equal(value, other[key]), (path, key)


@SMOKE_GROUP
def test_copied_evaluation_rows_equal_a_fresh_search(smoke_runs, tmp_path, monkeypatch):
    """The smoke ablation copies ``full`` and ``vanilla`` from single's evaluation
    (``evaluation_owners``): its table equals the one ``cftrain evaluate`` writes when it
    searches every cell itself; a table of other settings is refused, naming the file."""
    a = smoke_runs["a"]
    monkeypatch.chdir(a)
    monkeypatch.delenv("CFTRAIN_DATA_DIR", raising=False)
    _, experiments = cfg.resolve({"scale": "smoke"}, ROOT)
    owners = cfg.model_owners(experiments.values())
    ablation = experiments["ablation"]
    ds = ablation.datasets[0]
    dirs = {
        c.id: "results/{}/{}/{}/seed{}".format(*owners[("ablation", ds, c.id, 0)])
        for c in ablation.groups["all"]
    }
    assert dirs["full"].startswith("results/single/")
    log = (a / f"results/logs/evaluate/ablation/{ds}/ecco-all-seed0.log").read_text()
    assert "(full, vanilla copied)" in log
    spec = ablation.evaluation(ds, "all", "ecco")
    jobs.evaluate_job(spec, dirs, tmp_path / "fresh.parquet", 0, "cpu")
    fresh = pd.read_parquet(tmp_path / "fresh.parquet")
    copied = pd.read_parquet(f"results/ablation/{ds}/eval/ecco-all-seed0.parquet")
    pd.testing.assert_frame_equal(copied, fresh)
    assert copied.attrs == fresh.attrs and set(copied["model"]) == set(dirs)
    single = f"results/single/{ds}/eval/ecco-all-seed0.parquet"
    other = {**spec, "settings": spec["settings"][:1]}
    with pytest.raises(ValueError, match=f"cannot reuse {single} for cell 'full'.*settings"):
        jobs.evaluate_job(other, dirs, tmp_path / "x.parquet", 0, "cpu", {"full": single})
