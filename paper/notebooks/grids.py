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
# `tune_lr`): the implausibility IP of its cells against each varied training parameter,
# averaged over the other parameters (points: means; bars: seaborn's bootstrap intervals),
# split by objective, one row of panels per dataset.

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cftrain.pipeline.reporting import figures, tables
from cftrain.pipeline.reporting.names import dataset_label, model_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {}
expected_figures = None

# %%
sns.set_theme(style="whitegrid", context="paper")
if expected_figures is None:
    expected_figures = figures.expected(datasets, "grids")

# %%
for experiment in figures.GRID_EXPERIMENTS:
    name = f"grid_{experiment}"
    if name not in expected_figures:
        print(f"{experiment} was not run in this configuration")
        continue
    grid = tables.paper_rows(pd.read_csv(tables.table_path(results, experiment, "grid")))
    varied = [c for c in grid.columns if c.startswith("train_") and c != "train_objective"]
    varied = [c for c in varied if grid[c].nunique() > 1]
    long = grid.melt(
        id_vars=["dataset", "train_objective", "ip"],
        value_vars=varied,
        var_name="parameter",
        value_name="setting",
    )
    long = long.assign(
        data=long["dataset"].map(dataset_label),
        objective=long["train_objective"].map(model_label),
        parameter=long["parameter"].str.removeprefix("train_"),
        setting=long["setting"].astype(str),
    )
    g = sns.catplot(
        data=long,
        kind="point",
        x="setting",
        y="ip",
        hue="objective",
        row="data",
        col="parameter",
        sharex=False,
        sharey="row",
        height=2.2,
        aspect=1.2,
    )
    g.set_titles("{row_name}: {col_name}")
    g.set_axis_labels("", "IP")
    figures.save(g.figure, name, figures_dir, expected_figures)
    plt.close(g.figure)
