"""Aggregated tables of the workflow: tidy CSV (machine-readable) + LaTeX booktabs (display).

Each table kind is one function from the stage outputs (evaluation parquet files,
``performance.csv``, ``ig.csv``) to a tidy frame, built with
:mod:`cftrain.evaluation.aggregation`; :func:`display` turns a tidy frame into what the
paper shows and :func:`write_table` writes both files atomically.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cftrain.atomic import atomic_path
from cftrain.evaluation import (
    ablation_table,
    ig_table,
    reduction_table,
    robustness_table,
    run_means,
    validity_table,
)
from cftrain.evaluation.aggregation import CE_METRICS
from cftrain.pipeline import artifacts
from cftrain.pipeline.booktabs import MISSING, escape, minus, tabular
from cftrain.pipeline.config import COMPARED_CELLS, TABLE_INPUTS, TABLE_OPTIONS
from cftrain.pipeline.reporting.names import METRIC_LABELS, MODEL_LABELS

#: one evaluation job's identity; every CE table is computed per value of these
KEYS = ("experiment", "dataset", "protocol", "group", "seed")
MAX_COLUMNS = 8  # more models than this are listed in rows, not columns
_NUMBER = re.compile(r"(\\ensuremath\{-\})?\.?\d")  # a cell that starts with a number


def read_evaluations(
    paths: Sequence[str | Path], expected: Mapping[tuple, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """The evaluation tables, each checked against its digest and, with ``expected``
    ((dataset, group, protocol, seed) → identity, :func:`artifacts.expected_evaluations`),
    against the identity of its coordinates, each coordinates once."""
    frames, seen = [], {}
    for path in paths:
        frame = artifacts.read_evaluation(path)
        if expected is not None:
            where = artifacts.coordinates(frame.attrs[artifacts.IDENTITY])
            if where not in expected:
                raise artifacts.RefusedArtifact(path, f"no evaluation job {where} in this spec")
            if where in seen:
                raise ValueError(f"{path}: evaluation {where} is also given as {seen[where]}")
            _check_identity(path, frame, expected[where])
            seen[where] = path
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _check_identity(path: str | Path, frame: pd.DataFrame, expected: Mapping[str, Any]) -> None:
    identity = frame.attrs[artifacts.IDENTITY]
    wrong = [k for k in artifacts.EVALUATION_FIELDS if identity.get(k) != expected.get(k)]
    if wrong:
        raise artifacts.RefusedArtifact(
            path,
            f"it was made for another spec than this aggregation's ({', '.join(wrong)} differ)",
        )


def read_csvs(paths: Sequence[str | Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def _order(frame: pd.DataFrame, datasets: Sequence[str] | None) -> pd.DataFrame:
    """Rows in the experiment's dataset order (``Avg.`` last), stable otherwise."""
    if datasets is None or "dataset" not in frame:
        return frame.reset_index(drop=True)
    rank = {d: i for i, d in enumerate([*datasets, "Avg."])}
    key = frame["dataset"].map(rank).fillna(len(rank))
    return frame.assign(_rank=key).sort_values("_rank", kind="stable").drop(columns="_rank")


def main_table(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """% reduction CT vs BL with std, 99% interval and star (method §5.3, §6.1)."""
    return reduction_table(
        df,
        treatment=options["treatment"],
        baseline=options["baseline"],
        metrics=options["metrics"],
        group_by=KEYS,
    )


def costs_table(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Cost reduction without mutability constraints (method §6.4)."""
    return main_table(df, {**options, "metrics": ["cost"]})


def absolute_table(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """CT and BL absolute means and the 99% interval of their difference (method §6.3)."""
    full = main_table(df, {**options, "metrics": list(CE_METRICS)})
    full = full[full["dataset"] != "Avg."]
    return full[[*KEYS, "metric", "ct_mean", "bl_mean", "ci_low", "ci_high", "star", "n_runs"]]


def initial_grid_table(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """The seed draft's table (method §2.7): plausibility (−IP) mean ± std by training λ_energy,
    split by generator (the cell group) and objective; std over cells × bootstrap runs.

    Also mean IP*, cost and validity, and the training step size actually used.
    """
    params = [c for c in df.columns if c.startswith("train_")]
    cells = df[["model", *params]].drop_duplicates("model")
    runs = run_means(df, group_by=KEYS).merge(cells, on="model", how="left")
    valid = validity_table(df, group_by=KEYS, average=False)
    runs = runs.merge(valid, on=[*KEYS, "model"], how="left")
    runs["plausibility"] = -runs["ip"]
    runs["lambda_energy"] = np.where(
        runs["train_objective"] == "vanilla", np.nan, runs["train_lambda_energy"]
    )
    keys = [*KEYS, "train_objective", "lambda_energy", "train_step_size"]
    grouped = runs.groupby(keys, dropna=False, sort=True)
    table = grouped.agg(
        plausibility_mean=("plausibility", "mean"),
        plausibility_std=("plausibility", "std"),
        mmd_mean=("mmd", "mean"),
        cost_mean=("cost", "mean"),
        validity=("validity", "mean"),
        n_cells=("model", "nunique"),
        n_values=("plausibility", "size"),
    ).reset_index()
    table = table.rename(
        columns={
            "group": "generator",
            "train_objective": "objective",
            "train_step_size": "step_size",
        }
    )
    return table


def grid_table(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Per cell of an appendix grid (method §7): mean IP, IP*, cost over runs and λ_egy, validity,
    and the cell's varied training parameters."""
    varied = [f"train_{k}" for k in options["grid_keys"] if f"train_{k}" in df.columns]
    cells = df[["model", *varied]].drop_duplicates("model")
    runs = run_means(df, group_by=KEYS)
    means = runs.groupby([*KEYS, "model"], sort=True)[list(CE_METRICS)].mean().reset_index()
    valid = validity_table(df, group_by=KEYS, average=False)
    return means.merge(valid, on=[*KEYS, "model"]).merge(cells, on="model", how="left")


def validity_kind(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Mean validity per model (method §6.5)."""
    return validity_table(df, group_by=KEYS)


def ablation_kind(df: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """% reduction of each objective vs BL (method §6.7)."""
    return ablation_table(df, baseline=options["baseline"], group_by=KEYS)


def robustness_kind(perf: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """FGSM/PGD accuracy curves per model (method §6.8)."""
    attacked = perf[perf["attack"] != "clean"]
    frames = []
    for (exp, seed), part in attacked.groupby(["experiment", "seed"], sort=True):
        curves = {ds: g.drop(columns="dataset") for ds, g in part.groupby("dataset", sort=True)}
        frames.append(robustness_table(curves).assign(experiment=exp, seed=seed))
    return pd.concat(frames, ignore_index=True)


def accuracy_kind(perf: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Clean test accuracy per model (method §5.4)."""
    clean = perf[perf["attack"] == "clean"]
    return clean[["experiment", "dataset", "seed", "model", "accuracy"]].reset_index(drop=True)


def ig_kind(rounds: pd.DataFrame, options: Mapping[str, Any]) -> pd.DataFrame:
    """Median and 95% interval of the protected-feature IG statistic (method §6.6)."""
    frames = [
        ig_table(part).assign(experiment=exp, seed=seed)
        for (exp, seed), part in rounds.groupby(["experiment", "seed"], sort=True)
    ]
    return pd.concat(frames, ignore_index=True)


_BUILDERS: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], pd.DataFrame]] = {
    "main": main_table,
    "costs_unconstrained": costs_table,
    "absolute": absolute_table,
    "validity": validity_kind,
    "ablation": ablation_kind,
    "initial_grid": initial_grid_table,
    "grid": grid_table,
    "robustness": robustness_kind,
    "accuracy": accuracy_kind,
    "ig": ig_kind,
}
#: table name → (input kind, builder); the input kinds are the DAG's (``TABLE_INPUTS``)
TABLES = {name: (TABLE_INPUTS[name], build) for name, build in _BUILDERS.items()}


def table_options(options: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``options`` of tables ``names`` with the defaults filled in (:data:`TABLE_OPTIONS`);
    an unknown key or metric, or a treatment equal to the baseline, is a ``ValueError``."""
    unknown = sorted(set(options) - set(TABLE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown keys {unknown}; allowed keys: {list(TABLE_OPTIONS)}")
    out = {**TABLE_OPTIONS, **options}
    metrics = out["metrics"]
    if not isinstance(metrics, list) or not set(metrics) <= set(CE_METRICS):
        raise ValueError(f"metrics={metrics!r}; expected a list of {list(CE_METRICS)}")
    comparing = [n for n in names if "treatment" in COMPARED_CELLS.get(n, ())]
    if comparing and out["treatment"] == out["baseline"]:
        raise ValueError(
            f"treatment={out['treatment']!r} equals baseline; tables {comparing} compare two "
            "different cells (e.g. treatment full, baseline vanilla)"
        )
    return out


def aggregate(
    names: Sequence[str],
    inputs: Mapping[str, Sequence[str | Path]],
    options: Mapping[str, Any],
    out_dir: str | Path,
    expected: Mapping[tuple, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Tables ``names`` of one experiment from its stage outputs (``inputs``: kind → files)
    → ``<out_dir>/<name>.csv`` and ``.tex``; each input kind is read once. ``expected``: the
    identities of the experiment's evaluation tables (:func:`read_evaluations`)."""
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise ValueError(f"tables {unknown}; expected names in {sorted(TABLES)}")
    frames: dict[str, pd.DataFrame] = {}
    written: list[Path] = []
    for name in names:
        kind, builder = TABLES[name]
        if kind not in frames:
            paths = inputs.get(kind) or []
            if not paths:
                raise ValueError(f"table {name!r} needs {kind} files; none were given")
            frames[kind] = (
                read_evaluations(paths, expected) if kind == "evaluations" else read_csvs(paths)
            )
        tidy = _order(builder(frames[kind], options), options.get("datasets"))
        written += write_table(name, tidy, Path(out_dir) / name)
    return written


def _pm(value: float, spread: float, star: bool = False) -> str:
    if pd.isna(value):
        return "–"
    text = f"{value:.2f}" if pd.isna(spread) else f"{value:.2f} ± {spread:.2f}"
    return text + ("*" if not pd.isna(star) and bool(star) else "")


def _interval(lo: float, hi: float) -> str:
    return "–" if pd.isna(lo) else f"[{lo:.2f}, {hi:.2f}]"


def display(name: str, tidy: pd.DataFrame) -> pd.DataFrame:
    """What the paper shows of a tidy table: one row per dataset (and model/seed where needed),
    formatted strings."""
    extra = [k for k in ("seed", "group", "protocol") if k in tidy and tidy[k].nunique() > 1]
    if name in ("main", "costs_unconstrained", "cross_main"):
        cells = tidy.assign(
            text=[
                _pm(v, s, b)
                for v, s, b in zip(tidy["value"], tidy["std"], tidy["star"], strict=True)
            ],
            metric=tidy["metric"].map(METRIC_LABELS),
        )
        wide = cells.pivot_table(
            index=["dataset", *extra], columns="metric", values="text", aggfunc="first", sort=False
        )
        return wide[[m for m in METRIC_LABELS.values() if m in wide.columns]].reset_index()
    if name == "absolute":
        cells = tidy.assign(
            text=[
                f"{c:.2f} / {b:.2f} {_interval(lo, hi)}"
                for c, b, lo, hi in zip(
                    tidy["ct_mean"], tidy["bl_mean"], tidy["ci_low"], tidy["ci_high"], strict=True
                )
            ],
            metric=tidy["metric"].map(METRIC_LABELS),
        )
        return cells.pivot_table(
            index=["dataset", *extra], columns="metric", values="text", aggfunc="first", sort=False
        ).reset_index()
    if name in ("validity", "accuracy"):
        value = "validity" if name == "validity" else "accuracy"
        wide = tidy.assign(model=tidy["model"].map(lambda m: MODEL_LABELS.get(m, m)))
        rows, columns = ["dataset", *extra], "model"
        if wide["model"].nunique() > MAX_COLUMNS:  # a grid's many cells: one row each
            rows, columns = ["model", *extra], "dataset"
        wide = wide.pivot_table(
            index=rows, columns=columns, values=value, aggfunc="first", sort=False
        )
        return wide.map(lambda v: f"{v:.2f}").reset_index()
    if name == "ablation":
        cells = tidy.assign(
            text=tidy["reduction"].map(lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
            column=[
                f"{METRIC_LABELS[m]} {MODEL_LABELS.get(o, o)}"
                for m, o in zip(tidy["metric"], tidy["model"], strict=True)
            ],
        )
        return cells.pivot_table(
            index=["dataset", *extra], columns="column", values="text", aggfunc="first", sort=False
        ).reset_index()
    if name == "robustness":
        ends = tidy.groupby(["dataset", "model", "attack", *extra], sort=False).agg(
            clean=("clean_accuracy", "first"), attacked=("accuracy", "last")
        )
        ends["text"] = [
            f"{c:.2f} → {a:.2f}" for c, a in zip(ends["clean"], ends["attacked"], strict=True)
        ]
        ends = ends.reset_index()
        ends["column"] = [
            f"{MODEL_LABELS.get(m, m)} {a.upper()}"
            for m, a in zip(ends["model"], ends["attack"], strict=True)
        ]
        return ends.pivot_table(
            index=["dataset", *extra], columns="column", values="text", aggfunc="first", sort=False
        ).reset_index()
    if name == "ig":
        cells = tidy.assign(
            text=[
                f"{m:.2f} {_interval(lo, hi)}"
                for m, lo, hi in zip(tidy["median"], tidy["ci_low"], tidy["ci_high"], strict=True)
            ],
            model=tidy["model"].map(lambda m: MODEL_LABELS.get(m, m)),
        )
        return cells.pivot_table(
            index=["dataset", *extra], columns="model", values="text", aggfunc="first", sort=False
        ).reset_index()
    if name == "initial_grid":
        shown = tidy.assign(
            text=[
                _pm(m, s)
                for m, s in zip(tidy["plausibility_mean"], tidy["plausibility_std"], strict=True)
            ],
            lambda_energy=tidy["lambda_energy"].map(lambda v: "–" if pd.isna(v) else f"{v:g}"),
        )
        return shown.pivot_table(
            index=["dataset", "protocol", "lambda_energy", *[e for e in extra if e != "protocol"]],
            columns=["generator", "objective"],
            values="text",
            aggfunc="first",
            sort=False,
        ).reset_index()
    return tidy.map(lambda v: f"{v:.3g}" if isinstance(v, float) and not pd.isna(v) else v)


def to_latex(frame: pd.DataFrame) -> str:
    """A booktabs tabular of a display frame (index hidden): text escaped, negative numbers
    with a minus sign, ``--`` where a cell is empty, as in the paper's tables
    (:mod:`cftrain.pipeline.booktabs`); columns of numbers are right-aligned."""
    header = [
        " ".join(str(p) for p in c if p != "").strip() if isinstance(c, tuple) else str(c)
        for c in frame.columns
    ]
    rows = [
        [MISSING if pd.isna(v) else minus(escape(v)) for v in row]
        for row in frame.itertuples(index=False)
    ]
    align = "".join(
        "r" if all(c == MISSING or _NUMBER.match(c) for c in column) else "l"
        for column in zip(*rows, strict=True)
    )
    return tabular([escape(h) for h in header], rows, align=align or None)


def write_table(name: str, tidy: pd.DataFrame, stem: str | Path) -> tuple[Path, Path]:
    """``<stem>.csv`` (tidy) and ``<stem>.tex`` (booktabs of :func:`display`), atomically."""
    stem = Path(stem)
    csv, tex = stem.with_suffix(".csv"), stem.with_suffix(".tex")
    with atomic_path(csv) as tmp:
        tidy.to_csv(tmp, index=False)
    with atomic_path(tex) as tmp:
        tmp.write_text(to_latex(display(name, tidy)))
    return csv, tex


def cross_main(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The paper's main table (method §6.1): IP and IP* from ``single``, Cost from ``mutability``
    (each experiment's ``main`` table contributes the metrics it computed)."""
    frame = read_csvs(paths)
    return frame.reset_index(drop=True)


def wall_times(paths: Sequence[str | Path], root: str | Path) -> pd.DataFrame:
    """Per rule, experiment and dataset: jobs, total/mean/max seconds and max RSS from
    Snakemake benchmark files ``<root>/<rule>/<experiment>/<dataset>[/…].tsv``."""
    rows = []
    for path in map(Path, paths):
        bench = pd.read_csv(path, sep="\t")
        parts = path.relative_to(root).with_suffix("").parts
        rows.append(
            {
                "rule": parts[0],
                "experiment": parts[1] if len(parts) > 2 else "",
                "dataset": parts[2] if len(parts) > 2 else "",
                "seconds": bench["s"].iloc[0],
                "max_rss": bench["max_rss"].iloc[0],
            }
        )
    frame = pd.DataFrame(rows)
    frame["max_rss"] = pd.to_numeric(frame["max_rss"], errors="coerce")
    table = frame.groupby(["rule", "experiment", "dataset"], sort=True).agg(
        jobs=("seconds", "size"),
        total_seconds=("seconds", "sum"),
        mean_seconds=("seconds", "mean"),
        max_seconds=("seconds", "max"),
        max_rss_mb=("max_rss", "max"),
    )
    return table.reset_index()


def wall_times_per_rule(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`wall_times` summed over experiments and datasets."""
    per_rule = table.groupby("rule", sort=True).agg(
        jobs=("jobs", "sum"),
        total_seconds=("total_seconds", "sum"),
        max_seconds=("max_seconds", "max"),
        max_rss_mb=("max_rss_mb", "max"),
    )
    per_rule.insert(2, "mean_seconds", per_rule["total_seconds"] / per_rule["jobs"])
    return per_rule.reset_index()
