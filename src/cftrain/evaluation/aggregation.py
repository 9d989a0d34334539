"""From the tidy per-counterfactual table to the paper's tables (method §5.3, §6.5–6.8).

Metrics are kept as positive quantities (IP distance, clamped MMD², L1 cost). The reference
negates IP and IP* before aggregating; ratios and differences of absolute values are the same
either way, so the reported percentages and stars do not change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cftrain import validation

CE_METRICS = ("ip", "mmd", "cost")
CELL = ("run", "lambda_energy")  # one evaluation cell: run × λ_egy (method §5.3 step 2)
GROUP = ("dataset", "experiment")
AVERAGE_LABEL = "Avg."


def valid_cell_means(
    df: pd.DataFrame, metrics: Sequence[str] = CE_METRICS, group_by: Sequence[str] = GROUP
) -> pd.DataFrame:
    """m(r, λ, obj): mean over *valid* counterfactuals per run, λ_egy and model (§5.3 steps 1–2).

    MMD² is clamped at 0 first (deviations §9 item 15); missing values (e.g. MMD of groups with < 2
    valid counterfactuals) are skipped.
    """
    valid = df[df["validity"].astype(bool)].copy()
    if "mmd" in metrics:
        valid["mmd"] = valid["mmd"].clip(lower=0.0)
    keys = [*group_by, "model", *CELL]
    return valid.groupby(keys, sort=True)[list(metrics)].mean().reset_index()


def run_means(
    df: pd.DataFrame, metrics: Sequence[str] = CE_METRICS, group_by: Sequence[str] = GROUP
) -> pd.DataFrame:
    """m(r, obj): mean over the λ_egy values that have a value (§5.3 step 3, deviations §11.3)."""
    cells = valid_cell_means(df, metrics, group_by)
    keys = [*group_by, "model", "run"]
    return cells.groupby(keys, sort=True)[list(metrics)].mean().reset_index()


def reduction_table(
    df: pd.DataFrame,
    treatment: str = "full",
    baseline: str = "vanilla",
    metrics: Sequence[str] = CE_METRICS,
    level: float = 0.99,
    group_by: Sequence[str] = GROUP,
    average: bool = True,
) -> pd.DataFrame:
    """The main-table reduction of ``treatment`` (CT) vs ``baseline`` (BL), method §5.3 steps 4–6.

    Per group and metric: ``value = (1 − mean_r ratio_r)·100`` with ``ratio_r = m(r,CT)/m(r,BL)``,
    ``std = 100·std_r(ratio_r)`` (sample std), percentile interval at ``level`` of
    ``δ_r = |m(r,CT)| − |m(r,BL)|`` (linear interpolation), ``star`` when it excludes 0, and the
    run-averaged ``ct_mean``/``bl_mean`` (appendix tbl-ci). Runs lacking a value for either model
    are dropped and counted in ``n_dropped_runs`` (deviations §11.3). A run whose BL mean is 0 (e.g.
    MMD² clamped to 0 in every group) has a finite δ_r and stays in the interval and the means;
    only its ratio is undefined, so it is left out of ``value``/``std`` and counted in
    ``n_undefined_ratios`` (a deviation from the reference, deviations §12.2). With ``average``, an
    ``Avg.`` row per metric holds the plain mean of the values.
    """
    validation.check("reduction_table", "level", level, validation.Level)
    if treatment == baseline:
        raise ValueError(
            f"reduction_table: treatment={treatment!r} equals baseline; expected two different "
            "models (e.g. treatment='full', baseline='vanilla'), or every reduction is 0"
        )
    present = df["model"].unique().tolist() if "model" in df else []
    validation.models_in_table("reduction_table", present, treatment=treatment, baseline=baseline)
    means = run_means(df, metrics, group_by)
    rows = []
    for key, part in means.groupby(list(group_by), sort=True):
        for metric in metrics:
            wide = part.pivot(index="run", columns="model", values=metric)
            wide = wide.reindex(columns=[treatment, baseline])
            row = _reduction(wide[treatment].to_numpy(), wide[baseline].to_numpy(), level)
            rows.append({**dict(zip(group_by, key, strict=True)), "metric": metric, **row})
    table = pd.DataFrame(rows)
    if average and not table.empty:
        keys = [c for c in group_by if c != "dataset"] + ["metric"]
        table = pd.concat([table, average_rows(table, keys, ["value"])], ignore_index=True)
    return table


def _exact_mean(values: pd.Series) -> float:
    values = values.dropna()
    return math.fsum(values) / len(values) if len(values) else math.nan


def average_rows(table: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    """The rows labelled ``Avg.``: per ``keys``, the plain mean of ``cols`` over datasets,
    correctly rounded (``math.fsum``). pandas' grouped mean can differ in the last bit with the
    other groups of the table, so a run of one seed would not reproduce the average of a run of
    five exactly."""
    avg = table.groupby(keys, sort=False)[cols].agg(_exact_mean)
    return avg.reset_index().assign(dataset=AVERAGE_LABEL)


def _reduction(ct: np.ndarray, bl: np.ndarray, level: float) -> dict[str, float | bool | int]:
    """The §5.3 reduction of per-run means ``ct``, ``bl`` (aligned by run; NaN = no value)."""
    keep = np.isfinite(ct) & np.isfinite(bl)
    ct, bl = ct[keep], bl[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ct / bl
    defined = np.isfinite(ratio)
    ratio = ratio[defined]
    out: dict[str, float | bool | int] = {
        "n_runs": int(keep.sum()),
        "n_dropped_runs": int((~keep).sum()),
        "n_undefined_ratios": int((~defined).sum()),
    }
    if ct.size == 0:
        return {
            **out,
            "value": np.nan,
            "std": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "star": False,
            "ct_mean": np.nan,
            "bl_mean": np.nan,
        }
    delta = np.abs(ct) - np.abs(bl)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(delta, [tail, 1.0 - tail])
    return {
        **out,
        "value": float((1.0 - ratio.mean()) * 100.0) if ratio.size else np.nan,
        "std": float(100.0 * ratio.std(ddof=1)) if ratio.size > 1 else np.nan,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "star": bool(lo > 0 or hi < 0),
        "ct_mean": float(ct.mean()),
        "bl_mean": float(bl.mean()),
    }


def validity_table(
    df: pd.DataFrame, group_by: Sequence[str] = GROUP, average: bool = True
) -> pd.DataFrame:
    """Mean validity over *all* counterfactuals, averaged over runs and λ_egy (method §6.5);
    likewise ``onehot_valid``, the share whose one-hot groups are valid (method §4.8), when the
    table has that column."""
    keys = [*group_by, "model"]
    cols = [c for c in ("validity", "onehot_valid") if c in df.columns]
    cells = df.assign(**{c: df[c].astype(float) for c in cols})
    cells = cells.groupby([*keys, *CELL], sort=True)[cols].mean().reset_index()
    table = cells.groupby(keys, sort=True)[cols].mean().reset_index()
    if average and not table.empty:
        avg = average_rows(table, [c for c in keys if c != "dataset"], cols)
        table = pd.concat([table, avg], ignore_index=True)
    return table


VIOLATIONS = ("immutable_moved", "direction_violated", "domain_left")


def violation_table(df: pd.DataFrame, group_by: Sequence[str] = GROUP) -> pd.DataFrame:
    """Constraint-violation rates over all counterfactuals per model: each kind and any kind,
    averaged over runs and λ_egy like the validity table."""
    flags = df.assign(any_violation=df[list(VIOLATIONS)].any(axis=1))
    cols = [*VIOLATIONS, "any_violation"]
    flags[cols] = flags[cols].astype(float)
    keys = [*group_by, "model"]
    cells = flags.groupby([*keys, *CELL], sort=True)[cols].mean()
    return cells.groupby(keys, sort=True).mean().reset_index()


def ig_table(rounds: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Median and percentile interval of the per-round IG statistic (method §5.5, §6.6).

    rounds: one row per (dataset, model, round) with the statistic in column ``value``.
    """
    tail = (1.0 - level) / 2.0
    grouped = rounds.groupby(["dataset", "model"], sort=True)["value"]
    return pd.DataFrame(
        {
            "median": grouped.median(),
            "ci_low": grouped.quantile(tail),
            "ci_high": grouped.quantile(1.0 - tail),
            "n_rounds": grouped.size(),
        }
    ).reset_index()


def ablation_table(
    df: pd.DataFrame,
    baseline: str = "vanilla",
    metrics: Sequence[str] = CE_METRICS,
    group_by: Sequence[str] = GROUP,
) -> pd.DataFrame:
    """% reduction of each objective vs ``baseline`` on λ- and run-averaged valid-CE means,
    ``(m_obj − m_BL)/m_BL·(−100)``, no ratio bootstrap (method §6.7).

    ``std`` is the spread of that reduction over the bootstrap runs: the standard deviation of
    each run's own reduction (run r's mean against BL's mean of run r), the ablation figure's
    error bar; NaN with fewer than two runs that both models have.
    """
    present = df["model"].unique().tolist() if "model" in df else []
    validation.models_in_table("ablation_table", present, baseline=baseline)
    runs = run_means(df, metrics, group_by)
    overall = runs.groupby([*group_by, "model"], sort=True)[list(metrics)].mean().reset_index()
    long = overall.melt(id_vars=[*group_by, "model"], var_name="metric", value_name="mean")
    base = long[long["model"] == baseline].drop(columns="model")
    base = base.rename(columns={"mean": "baseline_mean"})
    out = long[long["model"] != baseline].merge(base, on=[*group_by, "metric"], how="left")
    out["reduction"] = (out["mean"] - out["baseline_mean"]) / out["baseline_mean"] * -100.0
    per_run = runs.melt(id_vars=[*group_by, "model", "run"], var_name="metric", value_name="m")
    base_run = per_run[per_run["model"] == baseline].drop(columns="model")
    paired = per_run[per_run["model"] != baseline].merge(
        base_run, on=[*group_by, "metric", "run"], suffixes=("", "_bl")
    )
    paired["r"] = (paired["m"] - paired["m_bl"]) / paired["m_bl"] * -100.0
    spread = paired.groupby([*group_by, "model", "metric"], sort=True)["r"].std()
    out = out.merge(
        spread.rename("std").reset_index(), on=[*group_by, "model", "metric"], how="left"
    )
    return out.reset_index(drop=True)


def robustness_table(curves: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Robustness curves of several datasets in one tidy table (method §5.4, §6.8).

    curves: dataset → output of :func:`cftrain.evaluation.robustness.robustness_curves`.
    Adds the clean accuracy (ε = 0) and the drop from it at each ε.
    """
    table = pd.concat([c.assign(dataset=name) for name, c in curves.items()], ignore_index=True)
    keys = ["dataset", "model", "attack"]
    table = table.sort_values([*keys, "epsilon"], ignore_index=True)
    table["clean_accuracy"] = table.groupby(keys, sort=False)["accuracy"].transform("first")
    table["accuracy_drop"] = table["clean_accuracy"] - table["accuracy"]
    return table[[*keys, "epsilon", "accuracy", "clean_accuracy", "accuracy_drop"]]
