"""Reading the workflow's aggregated tables (``results/<exp>/tables/<name>.csv``, CONTRACT).

The report needs to know which experiment produces which table, so that a table of an
experiment that was not run is *absent by design* (its section says so) while a missing table
of an experiment that ran is an error naming the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from cftrain.pipeline.reporting.names import DATASET_ORDER

# (experiment, table) pairs the report reads; the column layout is what
# cftrain.evaluation.aggregation returns for each.
SOURCES: dict[str, tuple[str, str]] = {
    "main_ip": ("single", "main"),  # IP, IP* columns of the main table (method §5.1)
    "main_cost": ("mutability", "main"),  # Cost column, protected features
    "absolute_ip": ("single", "absolute"),  # method §6.3: CT and BL means of IP, IP*
    "absolute_cost": ("mutability", "absolute"),  # method §6.3: of the Cost column
    "costs_unconstrained": ("single", "costs_unconstrained"),  # method §6.4
    "validity_unconstrained": ("single", "validity"),  # method §6.5 "mut."
    "validity_constrained": ("mutability", "validity"),  # method §6.5 "constr."
    "ig": ("mutability", "ig"),  # method §6.6
    "ablation": ("ablation", "ablation"),  # method §6.7
    "robustness": ("ablation", "robustness"),  # method §6.8
    "initial_grid": ("initial_grid", "initial_grid"),  # method §2.7
    "accuracy_single": ("single", "accuracy"),  # clean test accuracy (method §5.4)
    "accuracy_initial_grid": ("initial_grid", "accuracy"),  # per grid cell (method §2.7)
}
# CH, Credit and GMSC on our own draw from the raw files (``tabular_rows: raw``; method
# §4.2): the same tables under experiments named ``<experiment>_raw``, key ``<key>_raw``
RAW_ROWS_SUFFIX = "_raw"
SOURCES |= {
    key + RAW_ROWS_SUFFIX: (experiment + RAW_ROWS_SUFFIX, name)
    for key, (experiment, name) in dict(SOURCES).items()
    if key.startswith(("main_", "absolute_", "costs_", "validity_"))
}
WALL_TIMES = "tables/wall_times.csv"  # results/tables/wall_times.csv: per-rule benchmark sums


def table_path(results: str | Path, experiment: str, name: str) -> Path:
    return Path(results) / experiment / "tables" / f"{name}.csv"


def required_inputs(results: str | Path, experiments: Iterable[str]) -> list[Path]:
    """The aggregated CSVs the report reads for the configured ``experiments`` (DAG inputs)."""
    run = set(experiments)
    paths = {table_path(results, e, n) for e, n in SOURCES.values() if e in run}
    return sorted(paths)


def load(
    results: str | Path,
    key: str,
    experiments: Iterable[str],
    all_rows: bool = False,
    all_seeds: bool = False,
) -> pd.DataFrame | None:
    """Table ``key`` of :data:`SOURCES` (only :func:`paper_rows` unless ``all_rows``; every
    training seed with ``all_seeds``), or None when its experiment is not configured.

    Raises FileNotFoundError naming the file when the experiment is configured but the
    table is missing (a broken run must not silently drop a section).
    """
    experiment, name = SOURCES[key]
    if experiment not in set(experiments):
        return None
    path = table_path(results, experiment, name)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: table {name!r} of experiment {experiment!r} is missing; "
            "run the workflow's aggregate rule first"
        )
    df = pd.read_csv(path)
    return df if all_rows else paper_rows(df, all_seeds)


PAPER_PROTOCOL = "ecco"  # the paper's evaluation generator (method §5.2)


def paper_rows(df: pd.DataFrame, all_seeds: bool = False) -> pd.DataFrame:
    """The rows the paper reports: the first training seed (the paper trained one model per
    setting; ``all_seeds`` keeps the others for the across-seed comparison) and the paper's
    ECCo evaluation protocol where a table holds several."""
    if not all_seeds and "seed" in df.columns and df["seed"].notna().any():
        df = df[df["seed"] == df["seed"].min()]
    if "protocol" in df.columns and (df["protocol"] == PAPER_PROTOCOL).any():
        df = df[df["protocol"] == PAPER_PROTOCOL]
    return df.reset_index(drop=True)


def dataset_sorted(df: pd.DataFrame, column: str = "dataset") -> pd.DataFrame:
    """Rows in the paper's dataset order (unknown datasets after, alphabetically; Avg. last)."""
    rank = {name: i for i, name in enumerate(DATASET_ORDER)}
    key = df[column].map(lambda d: (rank.get(d, len(rank) - 1) if d != "Avg." else len(rank), d))
    return df.iloc[sorted(range(len(df)), key=lambda i: key.iloc[i])].reset_index(drop=True)
