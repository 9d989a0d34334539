"""Our results next to the published ones (SPEC §6; the full study is issue 17).

The published numbers are data (``published.csv`` in this package: one row per published
cell, ``approximate`` = 1 where the value was read from a figure). :func:`comparison` joins
each published cell with ours from the aggregated tables; cells of experiments that were not
run keep an empty ``ours``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cftrain.reporting import tables

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
]


def published() -> pd.DataFrame:
    """The published numbers of SPEC §6.1, §6.4–§6.8 as one tidy table."""
    with resources.files("cftrain.reporting").joinpath("published.csv").open() as fh:
        return pd.read_csv(fh)


def _ours(results: str | Path, experiments: list[str]) -> pd.DataFrame:
    """Our values in the published table's long layout (same KEYS)."""
    frames = []

    def reduction(key: str, table: str, metrics: tuple[str, ...]) -> None:
        df = tables.load(results, key, experiments)
        if df is not None:
            df = df[df["metric"].isin(metrics)]
            frames.append(
                df.assign(table=table, model="full").rename(
                    columns={"value": "ours", "std": "ours_std", "star": "ours_star"}
                )
            )

    reduction("main_ip", "main", ("ip", "mmd"))
    reduction("main_cost", "main", ("cost",))
    reduction("costs_unconstrained", "costs_unconstrained", ("cost",))
    for key in ("validity_unconstrained", "validity_constrained"):
        if (df := tables.load(results, key, experiments)) is not None:
            frames.append(
                df.assign(table="validity", metric="validity").rename(columns={"validity": "ours"})
            )
    if (df := tables.load(results, "ig", experiments)) is not None:
        frames.append(
            df.assign(table="ig", experiment="mutability", metric="ig").rename(
                columns={"median": "ours"}
            )
        )
    if (df := tables.load(results, "ablation", experiments)) is not None:
        frames.append(df.assign(table="ablation").rename(columns={"reduction": "ours"}))
    if (df := tables.load(results, "robustness", experiments)) is not None:
        frames.append(_robustness_points(df))
    if not frames:
        return pd.DataFrame(columns=[*KEYS, "ours"])
    ours = pd.concat(frames, ignore_index=True)
    ours = ours.rename(columns={"ci_low": "ours_ci_low", "ci_high": "ours_ci_high"})
    keep = [c for c in COLUMNS if c in ours.columns and not c.startswith("published")]
    return ours[keep]


def _robustness_points(df: pd.DataFrame) -> pd.DataFrame:
    """Clean accuracy and accuracy at the largest ε per attack (SPEC §6.8's end points)."""
    rows = []
    for (data, model, attack), part in df.sort_values("epsilon").groupby(
        ["dataset", "model", "attack"], sort=True
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
                }
            )
    return pd.DataFrame(rows)


def comparison(results: str | Path, experiments: Iterable[str]) -> pd.DataFrame:
    """One row per published cell: published value, ours, difference, sign and star agreement.

    ``sign_agrees`` compares signs of reductions (main, cost, ablation tables only; not where
    the published value is 0);
    ``star_agrees`` compares significance where both have a star column.
    """
    pub = published().rename(
        columns={"value": "published", "std": "published_std", "star": "published_star"}
    )
    pub = pub.drop(columns=["ci_low", "ci_high"])
    ours = _ours(results, list(experiments))
    out = pub.merge(ours, on=KEYS, how="left")
    for column in COLUMNS:
        if column not in out.columns:
            out[column] = np.nan
    out["difference"] = out["ours"] - out["published"]
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
    return out[COLUMNS]
