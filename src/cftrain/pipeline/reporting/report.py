"""One call that writes everything the paper ``\\input``s (issue 15).

``build_report`` reads the aggregated tables of the configured experiments and writes, under
``out_dir`` (``results/paper/generated``), the macros file and the table fragments listed in
:data:`GENERATED`, and the comparison with the published numbers. A table whose experiment
was not configured becomes a one-line note, so the paper builds for any configuration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cftrain.atomic import atomic_path
from cftrain.pipeline.reporting import compare, compute, figures, latex, tables
from cftrain.pipeline.reporting.macros import collect_macros, explosion_macros, write_macros
from cftrain.pipeline.reporting.names import macro_name
from cftrain.pipeline.reporting.provenance import write_provenance

NOT_RUN = "\\emph{Not run in this configuration.}\n"
#: the verify sentence of a paper built without a run to check (from the committed record)
FROM_RECORD = (
    "This paper was built from the committed record's tables and figures; no new run was "
    "checked against the record."
)


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
    explosions: str | Path | None = None,
) -> list[Path]:
    """Write the macros, table fragments and comparison; returns the paths written.

    datasets: experiment → datasets it ran (the configuration); ``\\haveFig…`` macros mark the
    figures drawn for it (:func:`cftrain.pipeline.reporting.figures.expected`). variants: the
    committed ``benchmarks/results/fidelity-<variant>.csv`` files of the investigation runs.
    provenance: where to write the resolved configuration and package versions. verify: the
    run's ``verify/report.json`` (:mod:`cftrain.pipeline.verify`), whose sentence becomes
    ``\\verifyOutcome``; without it the sentence says the paper comes from the record.
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
    put(
        "costs_unconstrained_table.tex",
        NOT_RUN if costs is None else latex.reduction_tabular({"Cost (\\%)": (costs, "cost")}),
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
    macros |= comparison_macros(comparison)
    macros |= compute.wall_time_macros(walls)
    if explosions is not None:
        macros |= explosion_macros(json.loads(Path(explosions).read_text())["figures"])
    for name in figures.expected(datasets):
        macros[macro_name("have", "fig", name)] = ""
    macros["experimentsRun"] = ", ".join(latex.escape(e) for e in experiments)
    macros["verifyOutcome"] = (
        json.loads(Path(verify).read_text())["sentence"] if verify is not None else FROM_RECORD
    )
    source = f"{results} (experiments: {', '.join(experiments)})"
    written.append(write_macros(out / "macros.tex", macros, source))
    return written


def comparison_macros(df: pd.DataFrame) -> dict[str, str]:
    """Counts for the comparison section: cells compared, sign and star agreements."""
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
    }


def write_csv(path: str | Path, df: pd.DataFrame) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)
