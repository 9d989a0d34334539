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
# # Main results: reductions, validity, integrated gradients
#
# Reads the aggregated tables of the `single` and `mutability` experiments
# (`results/<experiment>/tables/*.csv`, method §5.1) and draws the paper's main figures.
# The workflow runs this notebook with its parameters injected below the parameters cell; open it in
# Jupyter (jupytext) from the repository root to explore the same tables.

# %%
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cftrain.pipeline.reporting import figures, tables
from cftrain.pipeline.reporting.names import METRIC_LABELS, dataset_label, model_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"single": [], "mutability": []}  # experiment → datasets run (set by the workflow)
expected_figures = None  # None: derived from `datasets`

# %%
sns.set_theme(style="whitegrid", context="paper")
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "main_results")


def save(fig, name):
    figures.save(fig, name, figures_dir, expected_figures)
    plt.close(fig)


def labelled(df):
    """Paper labels and order for datasets (and models where present)."""
    df = tables.dataset_sorted(df)
    df = df.assign(data=df["dataset"].map(dataset_label))
    if "model" in df.columns:
        df = df.assign(objective=df["model"].map(model_label))
    return df


def reduction_bars(ax, df, title):
    """Bars of % reduction with ±std whiskers; a star marks a significant difference."""
    df = df[df["dataset"] != "Avg."]
    sns.barplot(data=df, x="data", y="value", ax=ax, color=sns.color_palette()[0])
    ax.errorbar(range(len(df)), df["value"], yerr=df["std"].fillna(0), fmt="none", c="k", lw=1)
    for i, (value, star) in enumerate(
        zip(df["value"], df["star"].astype(str) == "True", strict=True)
    ):
        if star:
            ax.annotate("*", (i, value), ha="center", va="bottom", fontsize=12)
    ax.axhline(0, c="k", lw=0.8)
    ax.set(xlabel="", ylabel="reduction CT vs BL (%)", title=title)


# %% [markdown]
# ## Main table: IP and IP* reductions (`single`)

# %%
if "main_reductions" in expected_figures:
    main = labelled(tables.load(results, "main_ip", experiments))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharex=True)
    for ax, metric in zip(axes, ["ip", "mmd"], strict=True):
        reduction_bars(ax, main[main["metric"] == metric], METRIC_LABELS[metric])
    fig.tight_layout()
    save(fig, "main_reductions")
else:
    print("single was not run in this configuration: no IP/IP* figure")

# %% [markdown]
# ## Cost reductions with protected features (`mutability`), and without them (`single`)

# %%
if "cost_reductions" in expected_figures:
    parts = {"protected features": tables.load(results, "main_cost", experiments)}
    if "single" in experiments:
        parts["no protection"] = tables.load(results, "costs_unconstrained", experiments)
    fig, axes = plt.subplots(1, len(parts), figsize=(4.5 * len(parts), 3.2), squeeze=False)
    for ax, (title, df) in zip(axes[0], parts.items(), strict=True):
        reduction_bars(ax, labelled(df[df["metric"] == "cost"]), f"Cost, {title}")
    fig.tight_layout()
    save(fig, "cost_reductions")

# %% [markdown]
# ## Validity (share of counterfactuals reaching the target class)

# %%
if "validity" in expected_figures:
    frames = []
    for key, setting in [
        ("validity_unconstrained", "no protection"),
        ("validity_constrained", "protected"),
    ]:
        df = tables.load(results, key, experiments)
        if df is not None:
            frames.append(df.assign(setting=setting))
    validity = labelled(pd.concat(frames, ignore_index=True))
    validity = validity[validity["dataset"] != "Avg."]
    grid = sns.catplot(
        data=validity,
        kind="bar",
        x="data",
        y="validity",
        hue="objective",
        col="setting",
        height=3,
        aspect=1.4,
    )
    grid.set_axis_labels("", "validity")
    save(grid.figure, "validity")

# %% [markdown]
# ## Integrated gradients on the protected features (`mutability`, method §5.5)

# %%
if "ig" in expected_figures:
    ig = labelled(tables.load(results, "ig", experiments))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    offsets = {"CT": -0.15, "BL": 0.15}
    order = list(dict.fromkeys(ig["data"]))
    for objective, part in ig.groupby("objective", sort=False):
        x = [order.index(d) + offsets.get(objective, 0) for d in part["data"]]
        ax.errorbar(
            x,
            part["median"],
            yerr=[part["median"] - part["ci_low"], part["ci_high"] - part["median"]],
            fmt="o",
            capsize=3,
            label=objective,
        )
    ax.set_xticks(range(len(order)), order)
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set(ylabel="standardised IG, protected features", xlabel="")
    ax.legend(title="")
    fig.tight_layout()
    save(fig, "ig")
