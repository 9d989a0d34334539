"""Our results next to the published ones (method §6; the full study is issue 17).

The published numbers are data (``published.csv`` in this package: one row per published
cell, ``approximate`` = 1 where the value was read from a figure). :func:`comparison` joins
each published cell with ours from the aggregated tables; cells of experiments that were not
run keep an empty ``ours``. ``ours`` is the first training seed (the paper trained one model
per setting); where an experiment ran several seeds, the ``seeds_*`` columns say how stable
that value is across them.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cftrain.pipeline.reporting import tables

KEYS = ["table", "experiment", "dataset", "model", "metric"]
COLUMNS = [
    *KEYS,
    "published",
    "published_std",
    "published_star",
    "approximate",
    "ours",
    "ours_std",
    "ours_ci_low",
    "ours_ci_high",
    "ours_star",
    "difference",
    "sign_agrees",
    "star_agrees",
    "n_seeds",
    "seeds_mean",
    "seeds_std",
    "n_seeds_agree",
]


def published() -> pd.DataFrame:
    """The published numbers of method §6.1, §6.3–§6.8 as one tidy table."""
    with resources.files("cftrain.pipeline.reporting").joinpath("published.csv").open() as fh:
        return pd.read_csv(fh)


def _ours(results: str | Path, experiments: list[str], suffix: str = "") -> pd.DataFrame:
    """Our values in the published table's long layout (same KEYS), one row per training
    seed (column ``seed``); ``suffix`` :data:`tables.RAW_ROWS_SUFFIX` reads the experiments
    on our own draw of CH, Credit and GMSC instead, under the published experiment names."""
    frames = []

    def load(key: str) -> pd.DataFrame | None:
        if key + suffix not in tables.SOURCES:
            return None
        df = tables.load(results, key + suffix, experiments, all_seeds=True)
        if df is not None and suffix:
            df = df.assign(experiment=df["experiment"].str.removesuffix(suffix))
        return df if df is None or "seed" in df.columns else df.assign(seed=0)

    def reduction(key: str, table: str, metrics: tuple[str, ...]) -> None:
        df = load(key)
        if df is not None:
            df = df[df["metric"].isin(metrics)]
            frames.append(
                df.assign(table=table, model="full").rename(
                    columns={"value": "ours", "std": "ours_std", "star": "ours_star"}
                )
            )

    reduction("main_ip", "main", ("ip", "mmd"))
    reduction("main_cost", "main", ("cost",))
    for key, metrics in (("absolute_ip", ("ip", "mmd")), ("absolute_cost", ("cost",))):
        if (df := load(key)) is not None:
            frames.append(_absolute_means(df[df["metric"].isin(metrics)]))
    reduction("costs_unconstrained", "costs_unconstrained", ("cost",))
    for key in ("validity_unconstrained", "validity_constrained"):
        if (df := load(key)) is not None:
            frames.append(
                df.assign(table="validity", metric="validity").rename(columns={"validity": "ours"})
            )
    if (df := load("ig")) is not None:
        frames.append(
            df.assign(table="ig", experiment="mutability", metric="ig").rename(
                columns={"median": "ours"}
            )
        )
    if (df := load("ablation")) is not None:
        frames.append(df.assign(table="ablation").rename(columns={"reduction": "ours"}))
    if (df := load("robustness")) is not None:
        frames.append(_robustness_points(df))
    if not frames:
        return pd.DataFrame(columns=[*KEYS, "seed", *(c for c in COLUMNS if c.startswith("ours"))])
    ours = pd.concat(frames, ignore_index=True)
    ours = ours.rename(columns={"ci_low": "ours_ci_low", "ci_high": "ours_ci_high"})
    keep = [c for c in COLUMNS if c in ours.columns and not c.startswith("published")]
    return ours[[*keep, "seed"]]


def _absolute_means(df: pd.DataFrame) -> pd.DataFrame:
    """CT's and BL's own means behind a reduction (method §6.3), one row each: they tell whether
    a reduction differs from the published one because of CT or because of the baseline."""
    keep = ["experiment", "dataset", "metric", "seed"]
    long = df.melt(id_vars=keep, value_vars=["ct_mean", "bl_mean"], var_name="model")
    long["model"] = long["model"].map({"ct_mean": "full", "bl_mean": "vanilla"})
    return long.rename(columns={"value": "ours"}).assign(table="absolute")


def _robustness_points(df: pd.DataFrame) -> pd.DataFrame:
    """Clean accuracy and accuracy at the largest ε per attack (method §6.8's end points)."""
    rows = []
    for (data, model, attack, seed), part in df.sort_values("epsilon").groupby(
        ["dataset", "model", "attack", "seed"], sort=True
    ):
        for point, value in (
            ("clean", part["accuracy"].iloc[0]),
            ("end", part["accuracy"].iloc[-1]),
        ):
            rows.append(
                {
                    "table": "robustness",
                    "experiment": "ablation",
                    "dataset": data,
                    "model": model,
                    "metric": f"{attack}_{point}",
                    "ours": value,
                    "seed": seed,
                }
            )
    return pd.DataFrame(rows)


def _agreement(out: pd.DataFrame) -> pd.DataFrame:
    """``sign_agrees`` (signed tables only, not where the published value is 0) and
    ``star_agrees`` (where both have a star) of rows holding ``published*`` and ``ours*``."""
    signed = out["table"].isin(["main", "costs_unconstrained", "ablation"]) & out["ours"].notna()
    signed &= out["published"] != 0  # a published ≈0 (read off a bar chart) has no sign
    out["sign_agrees"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out.loc[signed, "sign_agrees"] = np.sign(out.loc[signed, "ours"]) == np.sign(
        out.loc[signed, "published"]
    )
    starred = out["published_star"].notna() & out["ours_star"].notna()
    out["star_agrees"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out.loc[starred, "star_agrees"] = out.loc[starred, "published_star"].astype(bool) == out.loc[
        starred, "ours_star"
    ].astype(bool)
    return out


def _across_seeds(every_seed: pd.DataFrame) -> pd.DataFrame:
    """Per published cell: seeds run, mean and std of ours over them, and how many seeds keep
    the published sign and star (counted only where a sign or a star is compared)."""
    agrees = every_seed["sign_agrees"].fillna(True) & every_seed["star_agrees"].fillna(True)
    compared = every_seed["sign_agrees"].notna() | every_seed["star_agrees"].notna()
    frame = every_seed.assign(agrees=agrees & compared, compared=compared)
    stats = frame.groupby(KEYS, sort=False).agg(
        n_seeds=("ours", "count"),
        seeds_mean=("ours", "mean"),
        seeds_std=("ours", "std"),
        n_seeds_agree=("agrees", "sum"),
        compared=("compared", "any"),
    )
    stats["n_seeds_agree"] = stats["n_seeds_agree"].where(stats["compared"])
    return stats.drop(columns="compared").reset_index()


def comparison(results: str | Path, experiments: Iterable[str], suffix: str = "") -> pd.DataFrame:
    """One row per published cell: published value, ours (first training seed), difference,
    sign and star agreement, and the same cell across every training seed that ran
    (``suffix``: see :func:`_ours`).
    """
    pub = published().rename(
        columns={"value": "published", "std": "published_std", "star": "published_star"}
    )
    pub = pub.drop(columns=["ci_low", "ci_high"])
    ours = _ours(results, list(experiments), suffix)
    across = _across_seeds(_agreement(pub.merge(ours, on=KEYS, how="inner")))
    first = ours.sort_values("seed", kind="stable").drop_duplicates(KEYS)
    out = pub.merge(first.drop(columns="seed"), on=KEYS, how="left")
    out = out.merge(across, on=KEYS, how="left")
    for column in COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    out["difference"] = out["ours"] - out["published"]
    return _agreement(out)[COLUMNS]


ROWS_COLUMNS = [
    *KEYS,
    "published",
    "published_star",
    *(
        f"{c}_{rows}"
        for rows in ("reference", "raw")
        for c in ("ours", "ours_star", "n_seeds", "n_seeds_agree")
    ),
]


def rows_comparison(
    results: str | Path, experiments: Iterable[str], reference: pd.DataFrame
) -> pd.DataFrame:
    """The published main-table cells of the datasets that also ran on our own draw of the
    raw files (``<experiment>_raw``), with ours from both sources of rows side by side: the
    reference's rows (the default; ``reference`` is their :func:`comparison`) and our draw
    (method §4.2). Empty when no such run."""
    raw = comparison(results, experiments, tables.RAW_ROWS_SUFFIX)
    # per dataset: an average over the three datasets is not the published nine-dataset one
    raw = raw[raw["ours"].notna() & (raw["table"] == "main") & (raw["dataset"] != "Avg.")]
    if raw.empty:
        return pd.DataFrame(columns=ROWS_COLUMNS)
    out = raw.set_index(KEYS)[["published", "published_star"]]
    for rows, frame in (("reference", reference), ("raw", raw)):
        frame = frame.set_index(KEYS)
        for column in ("ours", "ours_star", "n_seeds", "n_seeds_agree"):
            out[f"{column}_{rows}"] = frame[column].reindex(out.index)
    return out.reset_index()[ROWS_COLUMNS]
