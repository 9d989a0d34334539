"""The workflow through a real one-node Slurm (issue 16): `make test` brings the cluster up
(tests/cluster/slurm.sh up) around these tests; alone: `pytest -m slurm` with it up.

The node declares one GPU as a generic resource without having one: GPU-profile jobs are
scheduled and their request is checked, while torch inside them sees no CUDA.
"""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from cftrain.pipeline import paths
from slurm_workflow import (
    ROOT,
    Run,
    cluster_state,
    is_local,
    job_counts,
    profile_settings,
    slurm_job_ids_in_logs,
    snakemake,
)

pytestmark = pytest.mark.slurm

SMOKE = "scale=smoke"
SMOKE_ROOT = paths.root("smoke")  # results/smoke
SMOKE_TIMEOUT = 3600  # about 5 minutes on 2 free cores; far more on a shared, loaded machine


@pytest.fixture(scope="module")
def cluster() -> None:
    """The test cluster must be up with its node free (a broken gres.conf would make every
    job pend for ever, SLURM.md), checked before anything is submitted."""
    state = cluster_state()
    if state != "idle gpu:1":
        pytest.fail(
            f"Slurm test cluster not ready (node state {state!r}, expected 'idle gpu:1'): "
            "run `tests/cluster/slurm.sh up` first (`make test` does)"
        )


@pytest.fixture(scope="module")
def local_smoke(tmp_path_factory) -> Run:
    run = snakemake(tmp_path_factory.mktemp("local"), "--config", SMOKE, timeout=SMOKE_TIMEOUT)
    assert run.returncode == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="module")
def slurm_smoke(cluster, tmp_path_factory) -> Run:
    """The smoke workflow through profiles/slurm as shipped (grouping on)."""
    run = snakemake(
        tmp_path_factory.mktemp("slurm"), "--config", SMOKE, profile="slurm", timeout=SMOKE_TIMEOUT
    )
    assert run.returncode == 0, run.output[-5000:]
    return run


def table_files(workdir: Path) -> dict[str, bytes]:
    results = workdir / SMOKE_ROOT
    return {
        str(p.relative_to(results)): p.read_bytes()
        for p in sorted(results.rglob("tables/*"))
        if p.suffix in {".csv", ".tex"} and "wall_times" not in p.name
    }


def test_every_smoke_job_ran_under_slurm(slurm_smoke):
    jobs = slurm_smoke.slurm_jobs()
    assert jobs, "the run submitted no Slurm job"
    assert {j.state for j in jobs} == {"COMPLETED"}, jobs
    in_logs = slurm_job_ids_in_logs(slurm_smoke.workdir)
    assert in_logs, f"no rule log under {SMOKE_ROOT}/logs"
    logs = slurm_smoke.workdir / SMOKE_ROOT / "logs"
    local = {log for log in in_logs if is_local(log.relative_to(logs).parts[0])}
    assert local and all(in_logs[log] is None for log in local)  # beside Snakemake, no job
    not_slurm = [str(log) for log, job in in_logs.items() if job is None and log not in local]
    assert not not_slurm, f"rule logs without a Slurm job id: {not_slurm}"
    in_logs = {log: job for log, job in in_logs.items() if log not in local}
    # every job id a log names is a job of this run, and every job of the run wrote a log
    assert set(in_logs.values()) == {j.id for j in jobs}


def test_smoke_tables_through_slurm_equal_local_run(slurm_smoke, local_smoke):
    local, slurm = table_files(local_smoke.workdir), table_files(slurm_smoke.workdir)
    assert local, "the local smoke run wrote no table"
    assert sorted(slurm) == sorted(local)
    different = [name for name in local if slurm[name] != local[name]]
    assert not different, f"tables differ between the Slurm and the local run: {different}"


def test_grouping_submits_one_slurm_job_per_group(slurm_smoke, tmp_path):
    """profiles/slurm groups training and evaluation jobs (the table stage is local): the run
    submitted one Slurm job per group plus one per ungrouped job, far fewer than it ran jobs."""
    settings = profile_settings("slurm")
    groups, sizes = settings["groups"], settings["group-components"]
    dry = snakemake(tmp_path, "--config", SMOKE, "--dry-run", profile="slurm")
    assert dry.returncode == 0, dry.output[-3000:]
    counts = job_counts(dry)
    planned = re.findall(r"Group job (\w+)", dry.output)
    groups = {**groups, **{r: "train_batches" for r in counts if r.startswith("train_")}}
    for group, size in sizes.items():
        jobs = sum(n for rule, n in counts.items() if groups.get(rule) == group)
        # training jobs are independent of each other: exactly ceil(jobs / size) groups;
        # jobs depending on each other (tables) form fewer, larger components
        n_groups = math.ceil(jobs / size)
        if group == "train_batches":
            assert planned.count(group) == n_groups
        else:
            assert 1 <= planned.count(group) <= n_groups
    ungrouped = sum(
        n
        for rule, n in counts.items()
        if rule not in groups and rule != "all" and not is_local(rule)
    )
    submitted = slurm_smoke.slurm_jobs()
    assert len(submitted) == len(planned) + ungrouped
    # far fewer Slurm jobs than Snakemake jobs (training is batched already, so less than 5×)
    assert len(submitted) < sum(n for rule, n in counts.items() if rule != "all") / 4
    for group in sizes:  # the plugin's --comment names a group job's group
        assert sum(j.comment.startswith(f"rule_{group}_") for j in submitted) == planned.count(
            group
        )


def _train_target(workdir: Path) -> tuple[str, Path]:
    """One smoke training job's output and its rule log (from a dry run's plan)."""
    plan = snakemake(workdir, "--config", SMOKE, "--dry-run", "--printshellcmds")
    outputs = sorted(
        re.findall(rf"output: ({SMOKE_ROOT}/single/moons/[^/,\s]+/seed0/model\.pt)", plan.output)
    )
    assert outputs, plan.output[-3000:]
    model = outputs[0]
    log = re.search(
        re.escape(model) + rf".*?log: ({SMOKE_ROOT}/logs/train/\S+\.log)", plan.output, re.DOTALL
    )
    assert log, plan.output[-3000:]
    return model, workdir / log.group(1)


def test_gpu_profile_requests_the_gpu_and_passes_the_device(cluster, tmp_path):
    assert cluster_state() == "idle gpu:1"
    model, train_log = _train_target(tmp_path)
    # As shipped the GPU profile passes device=cuda; torch here sees no GPU: a clear failure.
    failed = snakemake(tmp_path, "--config", SMOKE, "--", model, profile="slurm-gpu", timeout=1800)
    assert failed.returncode != 0
    text = train_log.read_text()
    assert "device=cuda was requested but torch sees no GPU" in text
    assert "CUDA_VISIBLE_DEVICES=0" in text  # the job held Slurm's (declared) GPU
    # device=auto: the same job runs, on the CPU, and its log says so
    run = snakemake(
        tmp_path, "--config", SMOKE, "device=auto", "--", model, profile="slurm-gpu", timeout=1800
    )
    assert run.returncode == 0, run.output[-5000:]
    text = train_log.read_text()
    job = int(re.search(r"slurm_job_id=(\d+)", text).group(1))
    assert "cuda_visible_devices=0" in text
    assert re.search(r" s on cpu$", text, re.MULTILINE), text
    params = json.loads((tmp_path / Path(model).parent / "params.json").read_text())
    assert params["device"] == "cpu"
    shown = subprocess.run(
        ["scontrol", "show", "job", str(job)], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"TresPer(Job|Node)=gres:gpu:1", shown), shown
    assert "JobState=COMPLETED" in shown
    # only training asks for the GPU: the data jobs before it ran beside Snakemake (local rules)
    logs = slurm_job_ids_in_logs(tmp_path)
    data_logs = {log: job for log, job in logs.items() if "/logs/data/" in str(log)}
    assert data_logs and set(data_logs.values()) == {None}, data_logs
    assert not any("data" in j.comment for j in run.slurm_jobs() + failed.slurm_jobs())


def test_failed_job_is_reported_and_rerun_submits_only_missing_jobs(cluster, tmp_path):
    """A value the checks accept but training cannot survive (λ_div = 3e38, which only the CT
    cell uses: its parameters go non-finite) fails that cell's Slurm job; the fixed rerun
    submits what is left."""
    smoke = yaml.safe_load((ROOT / "config" / "smoke.yaml").read_text())
    bad = copy.deepcopy(smoke)
    bad["smoke"]["overrides"]["single"]["train"]["per_dataset"] = {
        "lin_sep": {"lambda_div": 3.0e38}
    }
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    (tmp_path / "fixed.yaml").write_text(yaml.safe_dump(smoke))
    one_job_per_cell = ("--group-components", "train_batches=1", "eval_cells=1")
    args = ("--config", "experiments=[single]", *one_job_per_cell, "--keep-going")
    work = tmp_path / "work"

    failed = snakemake(work, "--configfile", str(tmp_path / "bad.yaml"), *args, profile="slurm")
    assert failed.returncode != 0, failed.output[-3000:]
    jobs = {j.id: j for j in failed.slurm_jobs()}
    failed_ids = [i for i, j in jobs.items() if j.state == "FAILED"]
    assert len(failed_ids) == 1, jobs
    # Snakemake names the failed (group) job and its Slurm log, which carries the Slurm job id
    assert re.search(
        rf"Error in group train_batches\s+log: \S+/{failed_ids[0]}\.log", failed.output
    )
    bad_log = work / SMOKE_ROOT / "logs/train/single/lin_sep/b000.log"  # the batch of full
    assert "cells failed: single/lin_sep/full/seed0" in bad_log.read_text()
    assert f"slurm_job_id={failed_ids[0]}" in bad_log.read_text()
    assert not (work / SMOKE_ROOT / "single/lin_sep/full/seed0/model.pt").exists()
    assert (work / SMOKE_ROOT / "single/moons/full/seed0/model.pt").exists()  # --keep-going

    fixed = ("--configfile", str(tmp_path / "fixed.yaml"), *args)
    plan = snakemake(work, *fixed, "--dry-run", profile="slurm")
    assert plan.returncode == 0, plan.output[-3000:]
    planned = {rule: n for rule, n in job_counts(plan).items() if rule != "all"}
    assert "data" not in planned  # what succeeded stays
    assert not re.search(rf"output: {SMOKE_ROOT}/single/moons/\S+/model\.pt", plan.output)
    assert any(rule.startswith("train_single_lin_sep_") for rule in planned)  # the failed batch
    rerun = snakemake(work, *fixed, profile="slurm")
    assert rerun.returncode == 0, rerun.output[-5000:]
    resubmitted = rerun.slurm_jobs()
    groups = profile_settings("slurm")["groups"]
    ungrouped = sum(
        n
        for rule, n in planned.items()
        if rule not in groups and not is_local(rule) and not rule.startswith("train_")
    )
    # one Slurm job per planned group job (a table job and the tables reading it form one)
    assert len(resubmitted) == len(re.findall(r"Group job \w+", plan.output)) + ungrouped
    assert {j.state for j in resubmitted} == {"COMPLETED"}
    # what succeeded at first was not run again: its logs still name the first run's jobs
    in_logs = slurm_job_ids_in_logs(work)
    kept = [log for log in in_logs if "/train/single/moons/" in str(log)]
    assert len(kept) == 2, kept  # moons: the batches of full and vanilla
    assert all(in_logs[log] in jobs for log in kept)
    assert in_logs[bad_log] in {j.id for j in resubmitted}
