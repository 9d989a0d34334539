"""Our wall times per workflow stage next to the reference's reported cluster times (method §8).

Ours come from the workflow's ``results/tables/wall_times.csv`` (per rule, experiment and
dataset: jobs and the sum, mean and max of the wall seconds in Snakemake's benchmark
files) and, for the elapsed time of whole stages, from the timing records of
``benchmarks/`` (``benchmarks/results/workflow.json`` and ``reproduction.json``: seconds per
stage and the machine they ran on); the reference's are data (``compute_reported.csv`` in
this package).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd

from cftrain.pipeline.reporting.macros import fmt
from cftrain.pipeline.reporting.names import macro_name
from cftrain.pipeline.tables import wall_times_per_rule

WALL_COLUMNS = (
    "rule",
    "experiment",
    "dataset",
    "jobs",
    "total_seconds",
    "mean_seconds",
    "max_seconds",
)


def read_wall_times(path: str | Path) -> pd.DataFrame:
    """The per-rule wall-time table, checked for the columns the report uses."""
    df = pd.read_csv(path)
    missing = [c for c in WALL_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected {list(WALL_COLUMNS)}")
    return df


def wall_time_macros(df: pd.DataFrame) -> dict[str, str]:
    """``\\\\wallTime<Rule>Minutes`` per rule, the total, and the number of jobs."""
    df = wall_times_per_rule(df)
    out = {
        macro_name("wall", "time", str(r.rule), "minutes"): fmt(r.total_seconds / 60.0, 1)
        for r in df.itertuples(index=False)
    }
    out["wallTimeTotalMinutes"] = fmt(df["total_seconds"].sum() / 60.0, 1)
    out["wallTimeJobs"] = str(int(df["jobs"].sum()))
    return out


def reported_compute() -> pd.DataFrame:
    """The reference's compute as reported in its appendix (method §8), as data."""
    with (
        resources.files("cftrain.pipeline.reporting").joinpath("compute_reported.csv").open() as fh
    ):
        return pd.read_csv(fh)


# (record, figure) → the stage it times and how; in the paper's order
STAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "workflow",
        "paper_seconds",
        "The paper's experiments at the first seed (single,"
        " mutability, ablation), their tables, figures and this document",
        "measured, one run",
    ),
    (
        "reproduction",
        "seeds_seconds",
        "Training seeds 1 to 4 of single and mutability and everything that depends on them",
        "measured, one run",
    ),
    (
        "reproduction",
        "initial_grid_seconds",
        "The seed draft's initial grid",
        "run in parts:"
        " its jobs' summed seconds times the seeds stage's ratio of elapsed to job seconds",
    ),
    (
        "workflow",
        "smoke_seconds",
        "The smoke scale (the whole workflow at tiny sizes)",
        "measured, one run",
    ),
)
JOB_SECONDS = {
    "seeds_seconds": "seeds_job_seconds",
    "initial_grid_seconds": "initial_grid_job_seconds",
}


def read_timings(paths: Sequence[str | Path]) -> dict[str, dict]:
    """The timing records (``benchmarks/results/<name>.json``) by name."""
    return {Path(p).stem: json.loads(Path(p).read_text()) for p in paths}


def stage_times(timings: dict[str, dict]) -> pd.DataFrame:
    """One row per timed stage present in ``timings``: elapsed and summed job minutes."""
    rows = []
    for record, figure, stage, how in STAGES:
        figures = timings.get(record, {}).get("figures", {})
        if figure not in figures:
            continue
        job = figures.get(JOB_SECONDS.get(figure, ""))
        rows.append(
            {
                "stage": stage,
                "minutes": figures[figure] / 60.0,
                "job_minutes": None if job is None else job / 60.0,
                "note": how,
                "jobs": figures.get("jobs_full") if figure == "paper_seconds" else None,
            }
        )
    return pd.DataFrame(rows, columns=["stage", "minutes", "job_minutes", "note", "jobs"])


def timing_macros(timings: dict[str, dict]) -> dict[str, str]:
    """Elapsed minutes and hours per stage (``stagePaperMinutes`` …), and the machine the
    stages were timed on: ``stageCpus`` (cores) and ``stageDevice`` (no GPU where CPU)."""
    out: dict[str, str] = {}
    names = {
        "paper_seconds": "Paper",
        "seeds_seconds": "Seeds",
        "initial_grid_seconds": "InitialGrid",
        "smoke_seconds": "Smoke",
    }
    for record in timings.values():
        for figure, value in record.get("figures", {}).items():
            if figure in names:
                out[macro_name("stage", names[figure], "minutes")] = fmt(value / 60.0, 0)
                out[macro_name("stage", names[figure], "hours")] = fmt(value / 3600.0, 1)
    machines = {r.get("machine", "") for r in timings.values()}
    devices = {r.get("device", "") for r in timings.values()}
    cpus = {m.group(1) for m in (re.search(r"(\d+) CPUs", x) for x in machines) if m}
    if len(cpus) == 1:
        out["stageCpus"] = cpus.pop()
    if devices:
        out["stageDevice"] = (
            "every job on the CPU alone (no GPU)"
            if devices == {"cpu"}
            else "jobs on " + ", ".join(sorted(devices))
        )
    return out
