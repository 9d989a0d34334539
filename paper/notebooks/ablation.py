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
# # Ablation and robustness (`ablation` experiment, method §5.4, §6.7, §6.8)
#
# CT against its parts: CD (no adversarial loss) and AR (adversarial loss only), each as a
# % reduction against BL, with the values read off the published figure beside them; then
# test accuracy under FGSM and PGD attacks of growing radius ε.

# %%
import matplotlib.pyplot as plt
import numpy as np

from cftrain.pipeline.reporting import compare, figures, style, tables
from cftrain.pipeline.reporting.names import MODEL_LABELS, dataset_label, model_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"ablation": []}
expected_figures = None

# %%
style.use()
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "ablation")
MODEL_ORDER = [MODEL_LABELS[m] for m in ("full", "energy", "adversarial", "vanilla")]
PUBLISHED = compare.published()


def save(fig, name):
    figures.save(fig, name, figures_dir, expected_figures)
    plt.close(fig)


def labelled(df):
    df = tables.dataset_sorted(df)
    return df.assign(data=df["dataset"].map(dataset_label), objective=df["model"].map(model_label))


# %% [markdown]
# ## Ablation bars: % reduction of IP and IP* against BL
#
# The reduction of run-averaged means, as the reference computed it (method §6.7); the error
# bar is the standard deviation over bootstrap runs of each run's own reduction. The published
# values were read off the published bar chart (approximate).

# %%
if "ablation" in expected_figures:
    ablation = labelled(tables.load(results, "ablation", experiments))
    objectives = [m for m in MODEL_ORDER if m in set(ablation["objective"])]
    order = list(dict.fromkeys(ablation["data"]))
    pub = PUBLISHED[PUBLISHED["table"] == "ablation"]
    fig, axes = plt.subplots(2, 1, figsize=style.size(1.0, 4.2), sharex=True, layout="constrained")
    width = 0.8 / len(objectives)
    for ax, metric, title in zip(axes, ["ip", "mmd"], ["IP", "IP$^*$"], strict=True):
        part = ablation[ablation["metric"] == metric]
        x = np.arange(len(order))
        for k, objective in enumerate(objectives):
            rows = part[part["objective"] == objective].set_index("data").reindex(order)
            shift = (k - (len(objectives) - 1) / 2) * width
            ax.bar(
                x + shift,
                rows["reduction"],
                width=width * 0.95,
                color=style.COLORS[objective],
                label=objective,
                zorder=2,
            )
            ax.errorbar(
                x + shift,
                rows["reduction"],
                yerr=rows["std"],
                fmt="none",
                ecolor="0.25",
                elinewidth=0.7,
                capsize=1.5,
                zorder=3,
            )
            ref = pub[(pub["metric"] == metric) & (pub["model"] == rows["model"].dropna().iloc[0])]
            ref = ref.set_index("dataset")["value"].reindex(rows["dataset"])
            ax.scatter(
                x + shift,
                ref.to_numpy(),
                marker="D",
                s=12,
                c="white",
                edgecolors="k",
                linewidths=0.7,
                zorder=4,
                label="published (approx.)" if k == 0 else None,
            )
        ax.axhline(0, c="k", lw=0.6)
        ax.set_title(f"Reduction of {title} against BL")
        ax.set_ylabel("reduction (%)")
        ax.grid(axis="x", visible=False)
    axes[-1].set_xticks(np.arange(len(order)), order)
    fig.legend(
        *axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=len(objectives) + 1
    )
    save(fig, "ablation")
else:
    print("ablation was not run in this configuration")

# %% [markdown]
# ## Robust accuracy under FGSM and PGD
#
# One panel per dataset; CT is drawn last and thickest so no other line hides it.

# %%
if "robustness_fgsm" in expected_figures:
    robustness = labelled(tables.load(results, "robustness", experiments))
    order = list(dict.fromkeys(robustness["data"]))
    n_cols = min(5, len(order))
    n_rows = int(np.ceil(len(order) / n_cols))
    for attack in ("fgsm", "pgd"):
        part = robustness[robustness["attack"] == attack]
        fig, axes = plt.subplots(
            n_rows,
            n_cols,
            figsize=style.size(1.0, 1.55 * n_rows + 0.5),
            sharex=True,
            sharey=True,
            layout="constrained",
            squeeze=False,
        )
        for ax, data in zip(axes.flat, order, strict=False):
            cell = part[part["data"] == data]
            for objective in style.ORDER:
                curve = cell[cell["objective"] == objective].sort_values("epsilon")
                if curve.empty:
                    continue
                ax.plot(
                    curve["epsilon"],
                    curve["accuracy"],
                    color=style.COLORS[objective],
                    marker=style.MARKERS[objective],
                    ls=style.LINESTYLES[objective],
                    lw=1.8 if objective == "CT" else 1.0,
                    ms=3 if objective == "CT" else 2.5,
                    label=objective,
                    zorder=3 + style.ORDER.index(objective),
                )
            ax.set_title(data)
            ax.set_ylim(-0.03, 1.03)
        for ax in axes.flat[len(order) :]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("radius $\\varepsilon$")
        for ax in axes[:, 0]:
            ax.set_ylabel("test accuracy")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        ranked = sorted(zip(labels, handles, strict=True), key=lambda lh: MODEL_ORDER.index(lh[0]))
        fig.legend(
            [h for _, h in ranked],
            [lab for lab, _ in ranked],
            loc="outside upper center",
            ncols=len(ranked),
        )
        save(fig, f"robustness_{attack}")
