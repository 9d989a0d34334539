"""One call that writes everything the paper ``\\input``s (issue 15).

``build_report`` reads the aggregated tables of the configured experiments and writes, under
``out_dir`` (``results/paper/generated``), the macros file and the table fragments listed in
:data:`cftrain.pipeline.reporting.outputs.GENERATED`, and the comparison with the published
numbers. A table whose experiment was not configured becomes a one-line note, so the paper
builds for any configuration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cftrain.atomic import atomic_path
from cftrain.pipeline import paths
from cftrain.pipeline.booktabs import escape
from cftrain.pipeline.reporting import compare, compute, figures, latex, tables
from cftrain.pipeline.reporting.macros import (
    collect_macros,
    count_of,
    explosion_macros,
    fmt,
    join_and,
    write_macros,
)
from cftrain.pipeline.reporting.names import dataset_label, experiment_label, macro_name
from cftrain.pipeline.reporting.provenance import hardware, hardware_macros, write_provenance

NOT_RUN = "\\emph{Not run in this configuration.}\n"
#: the verify sentence of a paper built without a run to check (from the committed record)
FROM_RECORD = (
    "This paper was built from the committed record's tables and figures; no new run was "
    "checked against the record."
)
EXPERIMENT_ORDER = ("single", "mutability", "ablation", "initial_grid", *figures.GRID_EXPERIMENTS)


def _needs(experiments: Sequence[str], *keys: str) -> bool:
    return any(tables.SOURCES[k][0] in experiments for k in keys)


def build_report(
    results: str | Path,
    datasets: Mapping[str, Sequence[str]],
    out_dir: str | Path,
    comparison_dir: str | Path,
    wall_times: str | Path,
    config: Mapping | None = None,
    variants: Sequence[str | Path] = (),
    provenance: str | Path | None = None,
    verify: str | Path | None = None,
    timings: Sequence[str | Path] = (),
    explosions: str | Path | None = None,
) -> list[Path]:
    """Write the macros, table fragments and comparison; returns the paths written.

    datasets: experiment → datasets it ran (the configuration); ``\\haveFig…`` macros mark the
    figures drawn for it (:func:`cftrain.pipeline.reporting.figures.expected`). variants: the
    committed ``benchmarks/results/fidelity-<variant>.csv`` files of the investigation runs.
    provenance: where to write the resolved configuration and package versions. verify: the
    run's ``verify/report.json`` (:mod:`cftrain.pipeline.verify`), whose sentence becomes
    ``\\verifyOutcome``; without it the sentence says the paper comes from the record.
    timings: the committed ``benchmarks/results/{workflow,reproduction}.json`` records of the
    stages' elapsed times and the machine they ran on. The data jobs' summaries
    (``<results>/data/<dataset>.json``) give the datasets' sizes.
    explosions: the committed ``benchmarks/results/explosions.json`` (the initial grid without
    the domain bound, :func:`~cftrain.pipeline.reporting.macros.explosion_macros`).
    """
    experiments = list(datasets)
    out = Path(out_dir)
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        written.append(latex.write(out / name, text))

    put(
        "main_table.tex",
        latex.main_tabular(results, experiments)
        if _needs(experiments, "main_ip", "main_cost")
        else NOT_RUN,
    )
    costs = tables.load(results, "costs_unconstrained", experiments)
    put("costs_unconstrained_table.tex", NOT_RUN if costs is None else latex.costs_tabular(costs))
    put(
        "accuracy_table.tex",
        latex.accuracy_tabular(results, experiments)
        if _needs(experiments, "accuracy_single")
        else NOT_RUN,
    )
    summaries = data_summaries(results, datasets)
    put("data_table.tex", latex.data_tabular(summaries))
    grid = tables.load(results, "initial_grid", experiments, all_rows=True)
    grid_accuracy = tables.load(results, "accuracy_initial_grid", experiments, all_rows=True)
    grid_spec = ((config or {}).get("initial_grid") or {}).get("train", {}).get("grid", {})
    put("initial_grid_table.tex", NOT_RUN if grid is None else latex.initial_grid_tabular(grid))
    put(
        "initial_grid_accuracy_table.tex",
        NOT_RUN
        if grid_accuracy is None or not grid_spec
        else latex.initial_grid_accuracy_tabular(grid_accuracy, grid_spec),
    )
    timing = compute.read_timings(timings)
    stages = compute.stage_times(timing)
    put(
        "stage_times_table.tex",
        latex.stage_times_tabular(stages) if len(stages) else "\\emph{No stage was timed.}\n",
    )
    put(
        "validity_table.tex",
        latex.validity_tabular(results, experiments)
        if _needs(experiments, "validity_unconstrained", "validity_constrained")
        else NOT_RUN,
    )
    put(
        "ig_table.tex",
        latex.ig_tabular(results, experiments) if _needs(experiments, "ig") else NOT_RUN,
    )
    comparison = compare.comparison(results, experiments)
    written.append(write_csv(Path(comparison_dir) / "comparison.csv", comparison))
    comparison_tex = latex.comparison_tabular(comparison)
    written.append(latex.write(Path(comparison_dir) / "comparison.tex", comparison_tex))
    put("comparison_table.tex", comparison_tex)
    put("disagreements_table.tex", latex.disagreements_tabular(comparison))
    rows = compare.rows_comparison(results, experiments, comparison)
    written.append(write_csv(Path(comparison_dir) / "rows.csv", rows))
    put("rows_table.tex", latex.rows_tabular(rows))
    put("variants_table.tex", latex.variants_tabular(variants))
    walls = compute.read_wall_times(wall_times)
    put("wall_times_table.tex", latex.wall_time_tabular(walls))
    put("wall_times_by_dataset_table.tex", latex.wall_time_by_dataset_tabular(walls))
    put("reported_compute_table.tex", latex.reported_compute_tabular(compute.reported_compute()))
    put("final_hyperparameters_table.tex", latex.final_hyperparameters_tabular())
    put("defaults_table.tex", latex.defaults_tabular())
    put("config_table.tex", latex.config_tabular(config or {}))
    if provenance is not None:
        written.append(write_provenance(provenance, config or {}, experiments))

    macros = collect_macros(results, experiments)
    macros |= comparison_macros(comparison, datasets)
    macros |= compute.wall_time_macros(walls)
    macros |= compute.timing_macros(timing)
    macros |= {k: escape(v) for k, v in hardware_macros(hardware()).items()}
    macros |= dataset_macros(summaries)
    if grid_accuracy is not None and grid_spec:
        macros |= initial_grid_accuracy_macros(grid_accuracy, grid_spec)
    if explosions is not None:
        macros |= explosion_macros(json.loads(Path(explosions).read_text())["figures"])
    for name in figures.expected(datasets):
        macros[macro_name("have", "fig", name)] = ""
    ordered = sorted(
        experiments,
        key=lambda e: (
            EXPERIMENT_ORDER.index(e) if e in EXPERIMENT_ORDER else len(EXPERIMENT_ORDER),
            e,
        ),
    )
    macros["experimentsRun"] = join_and(f"\\emph{{{escape(experiment_label(e))}}}" for e in ordered)
    macros["gridsRunPhrase"] = grids_run_phrase(experiments)
    macros["verifyOutcome"] = (
        json.loads(Path(verify).read_text())["sentence"] if verify is not None else FROM_RECORD
    )
    source = f"{results} (experiments: {', '.join(experiments)})"
    written.append(write_macros(out / "macros.tex", macros, source))
    return written


def data_summaries(results: str | Path, datasets: Mapping[str, Sequence[str]]) -> dict[str, dict]:
    """The data job's summary of every dataset the configured experiments use."""
    names = list(dict.fromkeys(d for ds in datasets.values() for d in ds))
    out = {}
    for name in names:
        path = Path(paths.Layout(str(results)).path("data", dataset=name))
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: the summary of dataset {name!r} is missing; the workflow's data rule"
                f" writes it (`cftrain data {name} --out {path}`)"
            )
        out[name] = json.loads(path.read_text())
    return out


def dataset_macros(summaries: Mapping[str, Mapping]) -> dict[str, str]:
    """``dataNum`` (datasets used) and the range of the test sets' sizes."""
    out = {"dataNum": str(len(summaries))}
    tests = [s["sizes"]["test"] for s in summaries.values()]
    if tests:
        out["dataTestMin"] = f"{min(tests):,}".replace(",", "\\,")
        out["dataTestMax"] = f"{max(tests):,}".replace(",", "\\,")
    return out


def initial_grid_accuracy_macros(acc: pd.DataFrame, grid: Mapping) -> dict[str, str]:
    """The lowest test accuracy of any CT model of the initial grid, and its dataset."""
    acc = latex.with_cell_params(acc[acc["seed"] == acc["seed"].min()], grid)
    ct = acc[acc["objective"] != "vanilla"] if "objective" in acc else acc.iloc[:0]
    if ct.empty:
        return {}
    low = ct.loc[ct["accuracy"].idxmin()]
    return {
        "gridAccuracyMin": fmt(low["accuracy"], 3),
        "gridAccuracyMinData": dataset_label(low["dataset"]),
    }


def grids_run_phrase(experiments: Sequence[str]) -> str:
    """Which of the appendix grids (method §7) this configuration ran, in words."""
    ran = [e for e in figures.GRID_EXPERIMENTS if e in experiments]
    names = join_and(f"\\texttt{{{escape(e)}}}" for e in ran)
    if not ran:
        return (
            "none of them has been run for this reproduction yet, so they are not part of its"
            " committed record and this document shows no figure of them"
        )
    if len(ran) == len(figures.GRID_EXPERIMENTS):
        return f"all of them ran in this configuration ({names}), with a figure each below"
    return f"of these, {names} ran in this configuration, with a figure each below"


def comparison_macros(
    df: pd.DataFrame, datasets: Mapping[str, Sequence[str]] | None = None
) -> dict[str, str]:
    """Counts for the comparison section: cells compared, sign and star agreements; and in
    words, ``compareCellsPhrase`` (all of the published cells, or how many) and
    ``compareAvgNote`` (whether our averages cover the published datasets)."""
    done = df[df["ours"].notna()]
    signs = done["sign_agrees"].dropna()
    stars = done["star_agrees"].dropna()
    starred_main = done[(done["table"] == "main") & (done["published_star"] == 1)]
    seeded = done[(done["n_seeds"] > 1) & done["n_seeds_agree"].notna()]
    return {
        macro_name("compare", "Main", "Starred"): str(len(starred_main)),
        macro_name("compare", "Main", "Starred", "Sign", "Agree"): str(
            int(starred_main["sign_agrees"].fillna(False).astype(bool).sum())
        ),
        macro_name("compare", "Seeds"): str(int(done["n_seeds"].max())) if len(done) else "0",
        macro_name("compare", "Seeded", "Cells"): str(len(seeded)),
        macro_name("compare", "Seeded", "Robust"): str(
            int((seeded["n_seeds_agree"] == seeded["n_seeds"]).sum())
        ),
        macro_name("compare", "Cells"): str(len(done)),
        macro_name("compare", "Sign", "Checked"): str(len(signs)),
        macro_name("compare", "Sign", "Agree"): str(int(signs.astype(bool).sum())),
        macro_name("compare", "Star", "Checked"): str(len(stars)),
        macro_name("compare", "Star", "Agree"): str(int(stars.astype(bool).sum())),
        macro_name("compare", "Published", "Cells"): str(len(df)),
        macro_name("compare", "Cells", "Phrase"): (
            f"{count_of(len(done), len(df))} published cell{'s' if len(df) != 1 else ''}"
        ),
        macro_name("compare", "Main", "Starred", "Phrase"): _starred_phrase(starred_main),
        macro_name("compare", "Avg", "Note"): _average_note(df, datasets or {}),
    }


def _starred_phrase(starred: pd.DataFrame) -> str:
    """``all 21 significant cells of the published main table have the same sign in ours``."""
    k = int(starred["sign_agrees"].fillna(False).astype(bool).sum())
    n = len(starred)
    cells = "cell" if n == 1 else "cells"
    verb = "has" if k == 1 or n == 1 else "have"
    table = "of the published main table"
    return f"{count_of(k, n)} significant {cells} {table} {verb} the same sign in ours"


def _average_note(df: pd.DataFrame, datasets: Mapping[str, Sequence[str]]) -> str:
    published = set(df["dataset"]) - {"Avg."}
    ours = set(datasets.get("single", [])) | set(datasets.get("mutability", []))
    if published <= ours:
        n = len(published)
        return f"Both averages are over the same {n} dataset{'s' if n != 1 else ''}."
    return (
        f"The published averages are over {len(published)} datasets, ours over the"
        f" {len(ours & published)} of this configuration, so the two are not comparable."
    )


def write_csv(path: str | Path, df: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)
