"""Our wall times per workflow stage next to the reference's reported cluster times (SPEC §8).

Snakemake's ``benchmark:`` files (``results/benchmarks/<rule>/<wildcards>.tsv``, CONTRACT)
hold one row per job with its wall time ``s`` in seconds; summing them per rule gives the
CPU-side cost of a stage however many jobs ran side by side.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd


def wall_times(benchmarks: str | Path) -> pd.DataFrame:
    """Per rule: number of jobs, total, mean and max wall seconds, and max RSS (MB).

    Rules are the first directory level under ``benchmarks``; an empty or missing folder
    gives an empty table (no job was benchmarked yet).
    """
    root = Path(benchmarks)
    rows = []
    for path in sorted(root.glob("*/**/*.tsv")):
        bench = pd.read_csv(path, sep="\t")
        if "s" not in bench.columns:
            raise ValueError(f"{path}: not a Snakemake benchmark file (no column 's')")
        rule = path.relative_to(root).parts[0]
        rss = bench["max_rss"] if "max_rss" in bench.columns else pd.Series([float("nan")])
        rows.append({"rule": rule, "seconds": float(bench["s"].mean()), "max_rss": rss.max()})
    columns = ["rule", "jobs", "total_seconds", "mean_seconds", "max_seconds", "max_rss_mb"]
    if not rows:
        return pd.DataFrame(columns=columns)
    df = pd.DataFrame(rows)
    grouped = df.groupby("rule", sort=True)
    out = pd.DataFrame(
        {
            "jobs": grouped.size(),
            "total_seconds": grouped["seconds"].sum(),
            "mean_seconds": grouped["seconds"].mean(),
            "max_seconds": grouped["seconds"].max(),
            "max_rss_mb": pd.to_numeric(grouped["max_rss"].max(), errors="coerce"),
        }
    ).reset_index()
    return out[columns]


def reported_compute() -> pd.DataFrame:
    """The reference's compute as reported in its appendix (SPEC §8), as data."""
    with resources.files("cftrain.reporting").joinpath("compute_reported.csv").open() as fh:
        return pd.read_csv(fh)
