# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Hyper-parameter grids of the appendix (method §7.1–7.2)
#
# For each grid experiment that ran (`gen_params`, `penalties`, `training_params`, `tune`,
# `tune_lr`, `tune_lenet`): the implausibility IP of CT's cells against each varied training
# parameter, averaged over the other parameters (points: means; bars: standard deviation over
# those cells), one row of panels per dataset; BL's mean IP is the dashed line.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cftrain.pipeline.reporting import figures, style, tables
from cftrain.pipeline.reporting.names import PARAMETER_LABELS, dataset_label, generator_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {}
expected_figures = None

# %%
style.use()
if expected_figures is None:
    expected_figures = figures.expected(datasets, "grids")


def label(parameter):
    """A parameter's name for an axis: the paper's symbol without LaTeX macros."""
    text = PARAMETER_LABELS.get(parameter, parameter.replace("_", " "))
    for macro, symbol in {
        "\\lreg": "\\lambda_{\\mathrm{reg}}",
        "\\ldiv": "\\lambda_{\\mathrm{div}}",
        "\\ladv": "\\lambda_{\\mathrm{adv}}",
        "\\lclf": "\\lambda_{\\mathrm{clf}}",
        "\\lcost": "\\lambda_{\\mathrm{cost}}",
        "\\legy": "\\lambda_{\\mathrm{egy}}",
    }.items():
        text = text.replace(macro, symbol)
    return text


# %%
for experiment in figures.GRID_EXPERIMENTS:
    name = f"grid_{experiment}"
    if name not in expected_figures:
        print(f"{experiment} was not run in this configuration")
        continue
    grid = tables.paper_rows(pd.read_csv(tables.table_path(results, experiment, "grid")))
    ct = grid[grid["train_objective"] != "vanilla"]
    bl = grid[grid["train_objective"] == "vanilla"]
    varied = [
        c
        for c in ct.columns
        if c.startswith("train_") and c != "train_objective" and ct[c].nunique() > 1
    ]
    order = list(tables.dataset_sorted(grid[["dataset"]].drop_duplicates())["dataset"])
    n_rows, n_cols = len(order), max(1, len(varied))
    row_height = min(1.5, (style.MAX_FIGURE_HEIGHT_IN - 0.6) / n_rows)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=style.size(1.0, row_height * n_rows + 0.6),
        sharey="row",
        layout="constrained",
        squeeze=False,
    )
    for r, data in enumerate(order):
        cells = ct[ct["dataset"] == data]
        baseline = bl[bl["dataset"] == data]["ip"].mean()
        for c, column in enumerate(varied):
            ax = axes[r, c]
            stats = cells.groupby(column)["ip"].agg(["mean", "std"]).reset_index()
            x = np.arange(len(stats))
            ax.errorbar(
                x,
                stats["mean"],
                yerr=stats["std"].fillna(0.0),
                fmt="o-",
                color=style.COLORS["CT"],
                label="CT",
            )
            if np.isfinite(baseline):
                ax.axhline(baseline, color=style.COLORS["BL"], ls="--", lw=1.0, label="BL")
            ticks = [
                f"{v:g}" if isinstance(v, float) else generator_label(str(v)) for v in stats[column]
            ]
            ax.set_xticks(x, ticks)
            if r == n_rows - 1:
                ax.set_xlabel(label(column.removeprefix("train_")))
            if c == 0:
                ax.set_ylabel(f"{dataset_label(data)}: IP")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=2)
    figures.save(fig, name, figures_dir, expected_figures)
    plt.close(fig)
