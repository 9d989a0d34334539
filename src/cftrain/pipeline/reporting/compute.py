"""Our wall times per workflow stage next to the reference's reported cluster times (method §8).

Ours come from the workflow's ``results/tables/wall_times.csv`` (per rule, experiment and
dataset: jobs and the sum, mean and max of the wall seconds in Snakemake's benchmark
files); the reference's are data (``compute_reported.csv`` in this package).
"""

from __future__ import annotations

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
