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
# (`results/<experiment>/tables/*.csv`, method §5.1) and draws the paper's main figures, each
# with the published values beside ours (`published.csv`, method §6).
# The workflow runs this notebook with its parameters injected below the parameters cell; open it in
# Jupyter (jupytext) from the repository root to explore the same tables.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cftrain.pipeline.reporting import compare, figures, style, tables
from cftrain.pipeline.reporting.names import dataset_label, model_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"single": [], "mutability": []}  # experiment → datasets run (set by the workflow)
expected_figures = None  # None: derived from `datasets`

# %%
style.use()
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "main_results")
PUBLISHED = compare.published()


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


def published(table, metric, data, model="full", experiment=None):
    """The published value of one cell, or NaN."""
    pub = PUBLISHED[
        (PUBLISHED["table"] == table)
        & (PUBLISHED["metric"] == metric)
        & (PUBLISHED["dataset"] == data)
        & (PUBLISHED["model"] == model)
    ]
    if experiment is not None:
        pub = pub[pub["experiment"] == experiment]
    return float(pub["value"].iloc[0]) if len(pub) else np.nan


def reduction_bars(ax, df, title, table, metric):
    """Bars of our % reduction with ±std whiskers, a star above a significant one's whisker,
    and the published value as a grey diamond."""
    df = df[df["dataset"] != "Avg."].reset_index(drop=True)
    x = np.arange(len(df))
    std = df["std"].fillna(0.0).to_numpy()
    value = df["value"].to_numpy()
    ax.bar(
        x, value, width=0.55, color=style.BAR_COLOR, label="ours ($\\pm$ bootstrap std)", zorder=2
    )
    ax.errorbar(x, value, yerr=std, fmt="none", ecolor="k", elinewidth=0.8, zorder=3)
    pub = [published(table, metric, d) for d in df["dataset"]]
    style.published(ax, x + 0.36, pub, "<", 16)
    span = np.nanmax(np.abs(np.r_[value + std, value - std, pub]))
    for i, star in enumerate(df["star"].astype(str) == "True"):
        if star:  # beyond the whisker, on the side the bar points to
            end = value[i] + std[i] if value[i] >= 0 else value[i] - std[i]
            offset = 0.03 * span if value[i] >= 0 else -0.03 * span
            ax.text(
                i,
                end + offset,
                "*",
                ha="center",
                va="bottom" if value[i] >= 0 else "top",
                fontsize=9,
            )
    ax.axhline(0, c="k", lw=0.6)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.06 * span * (lo < 0), hi + 0.08 * span)
    ax.set_xticks(x, df["data"], rotation=45, ha="right", rotation_mode="anchor")
    ax.set(xlabel="", title=title)
    ax.grid(axis="x", visible=False)


# %% [markdown]
# ## Main table: IP and IP* reductions (`single`)

# %%
if "main_reductions" in expected_figures:
    main = labelled(tables.load(results, "main_ip", experiments))
    fig, axes = plt.subplots(1, 2, figsize=style.size(1.0, 2.4), layout="constrained")
    for ax, metric, title in zip(axes, ["ip", "mmd"], ["IP", "IP$^*$"], strict=True):
        reduction_bars(ax, main[main["metric"] == metric], title, "main", metric)
    axes[0].set_ylabel("reduction, CT against BL (%)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2)
    save(fig, "main_reductions")
else:
    print("single was not run in this configuration: no IP/IP* figure")

# %% [markdown]
# ## Cost reductions with protected features (`mutability`), and without them (`single`)

# %%
if "cost_reductions" in expected_figures:
    parts = {"with protected features": ("main_cost", "main")}
    if "single" in experiments:
        parts["without protected features"] = ("costs_unconstrained", "costs_unconstrained")
    fig, axes = plt.subplots(
        1,
        len(parts),
        figsize=style.size(0.5 * len(parts), 2.4),
        layout="constrained",
        squeeze=False,
    )
    for ax, (title, (key, table)) in zip(axes[0], parts.items(), strict=True):
        df = labelled(tables.load(results, key, experiments))
        reduction_bars(ax, df[df["metric"] == "cost"], f"Cost, {title}", table, "cost")
    axes[0, 0].set_ylabel("reduction, CT against BL (%)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncols=2)
    save(fig, "cost_reductions")

# %% [markdown]
# ## Validity (share of counterfactuals reaching the target class)

# %%
if "validity" in expected_figures:
    frames = []
    for key, setting, experiment in [
        ("validity_unconstrained", "without protected features", "single"),
        ("validity_constrained", "with protected features", "mutability"),
    ]:
        df = tables.load(results, key, experiments)
        if df is not None:
            frames.append(df.assign(setting=setting, source=experiment))
    validity = labelled(pd.concat(frames, ignore_index=True))
    validity = validity[validity["dataset"] != "Avg."]
    settings = list(dict.fromkeys(validity["setting"]))
    fig, axes = plt.subplots(
        1,
        len(settings),
        figsize=style.size(1.0, 2.3),
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    for ax, setting in zip(axes[0], settings, strict=True):
        part = validity[validity["setting"] == setting]
        order = list(dict.fromkeys(part["data"]))
        x = np.arange(len(order))
        for k, objective in enumerate(["CT", "BL"]):
            rows = part[part["objective"] == objective].set_index("data").reindex(order)
            shift = (k - 0.5) * 0.36
            ax.bar(
                x + shift,
                rows["validity"],
                width=0.36,
                color=style.COLORS[objective],
                label=objective,
                zorder=2,
            )
            pub = [
                published("validity", "validity", d, rows.loc[o, "model"], rows.loc[o, "source"])
                for d, o in zip(rows["dataset"], order, strict=True)
            ]
            style.published(ax, x + shift, pub, "D", 10, "published" if k == 1 else None)
        ax.set_xticks(x, order, rotation=45, ha="right", rotation_mode="anchor")
        ax.set(title=setting.capitalize(), ylim=(0, 1.08))
        ax.grid(axis="x", visible=False)
    axes[0, 0].set_ylabel("validity")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncols=3)
    save(fig, "validity")

# %% [markdown]
# ## Integrated gradients on the protected features (`mutability`, method §5.5)

# %%
if "ig" in expected_figures:
    ig = labelled(tables.load(results, "ig", experiments))
    fig, ax = plt.subplots(figsize=style.size(0.75, 2.4), layout="constrained")
    offsets = {"CT": -0.14, "BL": 0.14}
    order = list(dict.fromkeys(ig["data"]))
    for objective in ("BL", "CT"):
        part = ig[ig["objective"] == objective]
        x = np.array([order.index(d) + offsets[objective] for d in part["data"]])
        ax.errorbar(
            x,
            part["median"],
            yerr=[part["median"] - part["ci_low"], part["ci_high"] - part["median"]],
            fmt=style.MARKERS[objective],
            color=style.COLORS[objective],
            label=objective,
            zorder=3,
        )
        pub = [published("ig", "ig", d, part["model"].iloc[0]) for d in part["dataset"]]
        ax.scatter(
            x,
            pub,
            marker="D",
            s=12,
            facecolors="none",
            edgecolors=style.COLORS[objective],
            linewidths=0.7,
            zorder=4,
            label=f"{objective}, published",
        )
    ax.set_xticks(range(len(order)), order)
    ax.set_yscale("symlog", linthresh=0.1, linscale=0.6)
    pub_ig = PUBLISHED[(PUBLISHED["table"] == "ig") & PUBLISHED["dataset"].isin(ig["dataset"])]
    top = np.nanmax(np.r_[ig["ci_high"].to_numpy(), pub_ig["value"].to_numpy()])
    ax.set_ylim(0, top * 1.6)
    ax.set(ylabel="standardised IG\n(median, 95% interval)", xlabel="")
    ax.grid(axis="x", visible=False)
    ax.legend(ncols=2, loc="upper right")
    save(fig, "ig")
