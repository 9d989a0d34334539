"""Which figure each notebook draws and when (issue 15): the DAG's figure list and the
notebooks' output come from this one table, so they cannot disagree.

A figure is expected when its experiment is configured (and, for the MNIST images, when that
experiment includes MNIST). Notebooks save through :func:`save`, which refuses a figure the
DAG does not know about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cftrain.atomic import atomic_path

FORMATS = ("pdf", "png")
DPI = 200


@dataclass(frozen=True)
class Figure:
    notebook: str  # paper/notebooks/<notebook>.py
    experiment: str  # drawn when this experiment is configured
    dataset: str | None = None  # … and, if set, runs this dataset


# the appendix's grid experiments (method §7.1–7.2)
GRID_EXPERIMENTS = ("gen_params", "penalties", "training_params", "tune", "tune_lr", "tune_lenet")

FIGURES: dict[str, Figure] = {
    # the original's Figure 1: BL and CT on LS, without and (where mutability ran) with a
    # protected feature; drawn from the models of single (and mutability)
    "poc": Figure("poc", "single", "lin_sep"),
    "main_reductions": Figure("main_results", "single"),
    "cost_reductions": Figure("main_results", "mutability"),
    "validity": Figure("main_results", "single"),
    "ig": Figure("main_results", "mutability"),
    "ablation": Figure("ablation", "ablation"),
    "robustness_fgsm": Figure("ablation", "ablation"),
    "robustness_pgd": Figure("ablation", "ablation"),
    "initial_grid_heatmap": Figure("initial_grid", "initial_grid"),
    "mnist_counterfactuals": Figure("mnist", "mutability", "mnist"),
    "mnist_ig": Figure("mnist", "mutability", "mnist"),
    **{f"grid_{e}": Figure("grids", e) for e in GRID_EXPERIMENTS},
}
# the aggregated tables each notebook reads (keys of cftrain.pipeline.reporting.tables.SOURCES)
NOTEBOOK_TABLES: dict[str, tuple[str, ...]] = {
    "main_results": (
        "main_ip",
        "main_cost",
        "costs_unconstrained",
        "validity_unconstrained",
        "validity_constrained",
        "ig",
    ),
    "ablation": ("ablation", "robustness"),
    "initial_grid": ("initial_grid",),
    "mnist": (),
    "grids": (),
    "poc": (),
}
NOTEBOOKS = tuple(dict.fromkeys(f.notebook for f in FIGURES.values()))


def expected(datasets: Mapping[str, Iterable[str]], notebook: str | None = None) -> list[str]:
    """Names of the figures drawn for ``datasets`` (experiment → its datasets), optionally of
    one notebook only, in :data:`FIGURES` order."""
    runs = {exp: set(ds) for exp, ds in datasets.items()}
    return [
        name
        for name, fig in FIGURES.items()
        if (notebook is None or fig.notebook == notebook)
        and fig.experiment in runs
        and (fig.dataset is None or fig.dataset in runs[fig.experiment])
    ]


def rule_outputs(
    datasets: Mapping[str, Iterable[str]], out_dir: str = "results/figures"
) -> dict[str, list[str]]:
    """notebook → the figure files its workflow rule declares (only notebooks with figures)."""
    out = {nb: [str(p) for p in figure_paths(out_dir, expected(datasets, nb))] for nb in NOTEBOOKS}
    return {nb: paths for nb, paths in out.items() if paths}


def rule_tables(datasets: Mapping[str, Iterable[str]], results: str = "results") -> dict:
    """notebook → the aggregated CSVs it reads for the configured experiments (rule inputs)."""
    from cftrain.pipeline.reporting import tables

    runs = set(datasets)
    out = {}
    for nb, keys in NOTEBOOK_TABLES.items():
        paths = {
            str(tables.table_path(results, *tables.SOURCES[k]))
            for k in keys
            if tables.SOURCES[k][0] in runs
        }
        if nb == "grids":
            paths |= {
                str(tables.table_path(results, e, "grid")) for e in GRID_EXPERIMENTS if e in runs
            }
        out[nb] = sorted(paths)
    return out


def figure_paths(out_dir: str | Path, names: Iterable[str]) -> list[Path]:
    return [Path(out_dir) / f"{name}.{ext}" for name in names for ext in FORMATS]


def save(fig, name: str, out_dir: str | Path, expected_names: Iterable[str]) -> list[Path]:
    """Write ``fig`` (a matplotlib figure) as PDF and PNG, atomically, at its own size (the
    paper includes it at that size, so its fonts print at their size).

    Raises ValueError for a name the DAG does not expect in this configuration, so a notebook
    cannot produce a file Snakemake does not track, and for a figure that breaks the paper's
    style (:func:`cftrain.pipeline.reporting.style.check`: fonts too small, figure too large).
    """
    from cftrain.pipeline.reporting import style

    if name not in set(expected_names):
        raise ValueError(
            f"figure {name!r} is not expected in this configuration; expected: "
            f"{sorted(expected_names)} (see cftrain.pipeline.reporting.figures.FIGURES)"
        )
    style.check(fig, name)
    paths = figure_paths(out_dir, [name])
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, metadata=_metadata(path.suffix))
    return paths


def _metadata(suffix: str) -> dict[str, str | None]:
    """Fixed metadata so reruns give identical files (no creation date in the PDF)."""
    if suffix == ".pdf":
        return {"CreationDate": None, "Producer": "cftrain"}
    return {"Software": "cftrain"}
