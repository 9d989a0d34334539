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
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain.pipeline import config as cfg
from cftrain.pipeline import jobs, paths, record
from workflow_helpers import (
    ROOT,
    SMOKE,
    SMOKE_MODELS,
    SMOKE_ROOT,
    flip_bytes,
    flip_in_column,
    git,
    run_env,
    snakemake,
)


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


def _by_stage(rules) -> collections.Counter:
    """Jobs per stage: the training batches' rules (``train_<exp>_<dataset>_<batch>``) as one."""
    return collections.Counter("train" if r.startswith("train_") else r for r in rules)


def _n_models(experiments) -> int:
    return sum(len(b.cells) for b in cfg.training_batches(experiments.values()))


def all_targets(workdir: Path, *config: str) -> list[str]:
    """The input files of ``rule all`` as the DAG computes them (a forced dry run)."""
    run = snakemake(workdir, "-n", "--forceall", *config)
    assert run.returncode == 0, run.stderr + run.stdout
    match = re.search(r"rule all:\n\s+input: (.*)\n", run.stdout)
    assert match, run.stdout
    return match.group(1).split(", ")


def tables(workdir: Path, root: str = SMOKE_ROOT) -> dict[str, bytes]:
    """Every aggregated table (CSV and LaTeX) of the run under ``root`` (the smoke scale's by
    default) except the wall times, by relative path."""
    files = [*workdir.glob(f"{root}/*/tables/*"), *workdir.glob(f"{root}/tables/*")]
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
    expected.update({"main_table": 1, "wall_times": 1, "verify": 1, "all": 1})
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
    """GMSC's raw file (read by the raw-draw experiments) has no download: the run stops."""
    env = run_env(CFTRAIN_DATA_MIRROR=str(tmp_path / "no-mirror"))
    run = snakemake(tmp_path, "--cores", "1", "--config", "experiments=[single_raw]", env=env)
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
    main = pd.read_csv(a / SMOKE_ROOT / "tables" / "main.csv")
    assert set(main["metric"]) == {"ip", "mmd", "cost"}
    grid = pd.read_csv(a / SMOKE_ROOT / "initial_grid" / "tables" / "initial_grid.csv")
    assert set(grid["generator"]) == {"ecco", "generic", "omniscient", "revise"}
    assert set(grid["protocol"]) == {"ecco", "own"} and set(grid["step_size"]) == {0.1}
    log = (a / SMOKE_ROOT / "logs/train/single/moons/b000.log").read_text()  # the batch of full
    assert re.search(r"trained single/moons/full/seed0: 4 epochs, accuracy \d\.\d{3}", log)
    grid = [
        json.loads(p.read_text()) for p in (a / SMOKE_ROOT).glob("initial_grid/*/*/*/params.json")
    ]
    assert max(p["k"] for p in grid) > 1  # the grid trained in batches
    assert "\r" not in log  # no progress bars in logs
    assert "Nothing to be done" in snakemake(a, "-n", *SMOKE, repo=a).stdout


@SMOKE_GROUP
def test_killed_run_resumes_only_missing_jobs_with_identical_tables(smoke_runs):
    before, trained = smoke_runs["before"], smoke_runs["trained"]
    everything = {str(p.relative_to(smoke_runs["b"])) for p in smoke_runs["b"].glob(SMOKE_MODELS)}
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
    for path in a.glob(SMOKE_MODELS):
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
    layout = paths.Layout(SMOKE_ROOT)
    coordinates = ("experiment", "dataset", "cell", "seed")
    dirs = {
        c.id: layout.path(
            "model_dir", **dict(zip(coordinates, owners[("ablation", ds, c.id, 0)], strict=True))
        )
        for c in ablation.groups["all"]
    }
    assert dirs["full"].startswith(f"{SMOKE_ROOT}/single/")
    where = dict(dataset=ds, protocol="ecco", group="all", seed=0)
    log = (a / layout.log("evaluate", experiment="ablation", **where)).read_text()
    assert "(full, vanilla copied)" in log
    spec = ablation.evaluation(ds, "all", "ecco")
    jobs.evaluate_job(spec, dirs, tmp_path / "fresh.parquet", 0, "cpu")
    fresh = pd.read_parquet(tmp_path / "fresh.parquet")
    copied = pd.read_parquet(layout.path("evaluation", experiment="ablation", **where))
    pd.testing.assert_frame_equal(copied, fresh)
    assert copied.attrs == fresh.attrs and set(copied["model"]) == set(dirs)
    single = layout.path("evaluation", experiment="single", **where)
    other = {**spec, "settings": spec["settings"][:1]}
    with pytest.raises(ValueError, match=f"cannot reuse {single} for cell 'full'.*settings"):
        jobs.evaluate_job(other, dirs, tmp_path / "x.parquet", 0, "cpu", {"full": single})


# --- issue 24: a fresh clone, scales apart, artifacts checked where read, the record ---------


@SMOKE_GROUP
def test_a_fresh_clone_trains_every_model_changes_nothing_tracked_and_verifies(smoke_runs):
    """Run A ran in a fresh clone of the working tree with the clone's code (conftest): every
    training and evaluation job of the plan ran (no model came from elsewhere), git sees no
    tracked file changed and nothing new that is not ignored, and `verify` found every table
    cell equal to the committed smoke record (record/smoke/)."""
    a = smoke_runs["a"]
    _, experiments = cfg.resolve({"scale": "smoke"}, ROOT)
    planned = _by_stage(j.rule for j in cfg.plan(experiments.values()))
    ran = job_counts(smoke_runs["a_output"].read_text())
    ran = _by_stage(r for r, n in ran.items() for _ in range(n))
    assert {r: ran.get(r) for r in ("train", "evaluate", "assess")} == {
        r: planned[r] for r in ("train", "evaluate", "assess")
    }
    assert len(list(a.glob(SMOKE_MODELS))) == _n_models(experiments)
    assert git(a, "status", "--porcelain", "--untracked-files=all") == ""
    verified = a / SMOKE_ROOT / "verify"
    report = json.loads((verified / "report.json").read_text())
    totals = report["totals"]
    assert totals["tables_not_in_record"] == 0 and totals["tables_compared"] >= 15
    assert totals["equal"] == totals["cells"] > 500, (verified / "report.md").read_text()
    assert set(pd.read_csv(verified / "report.csv")["status"]) == {"equal"}
    macros = (a / SMOKE_ROOT / "paper" / "generated" / "macros.tex").read_text()
    assert report["sentence"] in macros and f"{totals['cells']:,} table cells" in macros


@SMOKE_GROUP
def test_a_smoke_run_writes_only_under_its_root_and_the_paper_reuses_none_of_it(smoke_runs):
    a = smoke_runs["a"]
    assert sorted(p.name for p in (a / "results").iterdir()) == ["smoke"]
    plan = snakemake(a, "-n", repo=a)  # the paper scale in the same folder: all of it to do
    assert plan.returncode == 0, plan.stderr[-3000:]
    _, experiments = cfg.resolve({}, ROOT)
    trainings = _by_stage(j.rule for j in cfg.plan(experiments.values()))["train"]
    counts = job_counts(plan.stdout)
    assert sum(n for r, n in counts.items() if r.startswith("train_")) == trainings


@SMOKE_GROUP
def test_damaged_model_and_evaluation_are_refused_named_and_remade(smoke_runs, tmp_path):
    """Four flipped bytes in a model and in an evaluation table: their consumers refuse them,
    naming the file, and move them aside; the next run remakes them (the workflow makes every
    file with a `.refused` twin a target) and everything after them, and every table comes out
    as before."""
    work = tmp_path / "work"
    shutil.copytree(smoke_runs["a"], work, symlinks=True)
    _, experiments = cfg.resolve({"scale": "smoke"}, ROOT)
    grid = experiments["initial_grid"]
    layout = paths.Layout(SMOKE_ROOT)
    cell = next(c.id for c in grid.cells if c.params["objective"] == "full")
    model = work / layout.path("model", experiment=grid.name, dataset="moons", cell=cell, seed=0)
    evaluation = work / layout.path(
        "evaluation", experiment="single", dataset="moons", protocol="ecco", group="all", seed=0
    )
    before = {p: p.read_bytes() for p in (model, evaluation)}
    expected_tables = tables(work)
    flip_bytes(model)
    flip_in_column(evaluation, "ip")
    a = smoke_runs["a"]  # the clone's workflow, as its Snakemake metadata records it
    env = run_env(PYTHONPATH=str(a / "src"))
    failed = snakemake(work, "--cores", "2", *SMOKE, "--keep-going", env=env, repo=a)
    assert failed.returncode != 0
    logs = "\n".join(p.read_text() for p in (work / SMOKE_ROOT / "logs").rglob("*.log"))
    for path in before:
        name = str(path.relative_to(work))
        assert f"refused {name}" in logs, failed.stderr[-3000:]
        assert not path.exists() and path.with_name(path.name + ".refused").is_file()
    assert "the file changed after it was written" in logs  # the model's digest
    rerun = snakemake(work, "--cores", "2", *SMOKE, env=env, repo=a)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not list(work.rglob("*.refused"))  # remade: the markers are gone
    assert model.read_bytes() == before[model]  # retrained, bit for bit
    assert evaluation.read_bytes() == before[evaluation]  # evaluated again, bit for bit
    assert tables(work) == expected_tables


@SMOKE_GROUP
def test_record_pack_writes_the_record_and_an_archive_that_unpacks_checked(
    smoke_runs, tmp_path, monkeypatch
):
    """`cftrain record pack` (make record) on the smoke run: final outputs into the record,
    a manifest of every per-job file with its config digest and SHA-256, and a reproducible
    archive whose SHA-256 the manifest records; `cftrain record unpack` restores the files
    and refuses an archive that is not the recorded one."""
    a = smoke_runs["a"]
    monkeypatch.chdir(a)
    record_dir, archive_dir = tmp_path / "record", tmp_path / "archive"
    summary = record.pack(SMOKE_ROOT, record_dir, archive_dir=archive_dir)
    rows = record.read_manifest(record_dir / record.MANIFEST)
    kinds = collections.Counter(r["kind"] for r in rows)
    _, experiments = cfg.resolve({"scale": "smoke"}, ROOT)
    assert kinds["model"] == kinds["params"] == kinds["training_log"] == _n_models(experiments)
    assert kinds["archive"] == 1 and rows[-1]["kind"] == "archive"
    assert rows[-1]["sha256"] == summary["archive_sha256"]
    single = experiments["single"]
    model = next(r for r in rows if r["kind"] == "model" and r["experiment"] == "single")
    assert model["digest"] == cfg.digest(
        single.training(model["dataset"], model["cell"], int(model["seed"]))
    )
    assert model["sha256"] == record.sha256_file(model["path"])
    for rel in ("paper/paper.pdf", "provenance.json", "tables/main.csv", "figures"):
        assert (record_dir / rel).exists(), rel
    again = record.pack(SMOKE_ROOT, tmp_path / "again", archive_dir=tmp_path / "archive2")
    assert again["archive_sha256"] == summary["archive_sha256"]  # the same files, same bytes
    into = tmp_path / "unpacked"
    record.unpack(summary["archive"], record_dir, into)
    for row in rows[:-1]:
        assert record.sha256_file(into / row["path"]) == row["sha256"], row["path"]
    flip_bytes(Path(summary["archive"]))
    with pytest.raises(SystemExit, match="is not the record's"):
        record.unpack(summary["archive"], record_dir, tmp_path / "other")


@SMOKE_GROUP
def test_record_add_joins_an_experiment_run_on_its_own(smoke_runs, tmp_path, monkeypatch):
    """`cftrain record add`: an experiment recorded separately (here the smoke initial grid,
    taken out of a packed record) joins the record with its tables, figure and notebook, its
    spec in the provenance, and its files in the manifest and an archive of its own that
    unpacks checked; the record's other rows stay, and adding it twice is refused."""
    monkeypatch.chdir(smoke_runs["a"])
    record_dir = tmp_path / "record"
    record.pack(SMOKE_ROOT, record_dir, archive_dir=tmp_path / "archive")
    tables = sorted((record_dir / "initial_grid" / "tables").iterdir())
    expected = {p.name: p.read_bytes() for p in tables}
    shutil.rmtree(record_dir / "initial_grid")
    for figure in (record_dir / "figures").glob("initial_grid_heatmap.*"):
        figure.unlink()
    provenance = json.loads((record_dir / "provenance.json").read_text())
    del provenance["config"]["initial_grid"]
    provenance["experiments"].remove("initial_grid")
    (record_dir / "provenance.json").write_text(json.dumps(provenance))
    before = record.read_manifest(record_dir / record.MANIFEST)

    summary = record.add(SMOKE_ROOT, record_dir, ["initial_grid"], tmp_path / "added")
    assert {p.name: p.read_bytes() for p in (record_dir / "initial_grid/tables").iterdir()} == (
        expected
    )
    assert (record_dir / "figures/initial_grid_heatmap.pdf").is_file()
    assert (record_dir / "notebooks/initial_grid.ipynb").is_file()
    provenance = json.loads((record_dir / "provenance.json").read_text())
    assert provenance["experiments"][-1] == "initial_grid"
    assert provenance["added"][0]["experiments"] == ["initial_grid"]
    rows = record.read_manifest(record_dir / record.MANIFEST)
    assert rows[: len(before)] == [{**r, "archive": ""} for r in before]
    added = [r for r in rows[len(before) :] if r["kind"] != "archive"]
    assert added and {r["archive"] for r in added} == {Path(summary["archive"]).name}
    assert any(r["kind"] == "model" and r["experiment"] == "initial_grid" for r in added)
    into = tmp_path / "unpacked"
    record.unpack(summary["archive"], record_dir, into)
    for row in added:
        assert record.sha256_file(into / row["path"]) == row["sha256"], row["path"]
    with pytest.raises(SystemExit, match="already records"):
        record.add(SMOKE_ROOT, record_dir, ["initial_grid"], tmp_path / "again")
