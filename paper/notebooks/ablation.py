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
# % reduction against BL; then test accuracy under FGSM and PGD attacks of growing radius ε.

# %%
import matplotlib.pyplot as plt
import seaborn as sns

from cftrain.pipeline.reporting import figures, tables
from cftrain.pipeline.reporting.names import METRIC_LABELS, MODEL_LABELS, dataset_label, model_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"ablation": []}
expected_figures = None

# %%
sns.set_theme(style="whitegrid", context="paper")
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "ablation")
MODEL_ORDER = [MODEL_LABELS[m] for m in ("full", "energy", "adversarial", "vanilla")]


def save(fig, name):
    figures.save(fig, name, figures_dir, expected_figures)
    plt.close(fig)


def labelled(df):
    df = tables.dataset_sorted(df)
    return df.assign(data=df["dataset"].map(dataset_label), objective=df["model"].map(model_label))


# %% [markdown]
# ## Ablation bars: % reduction of IP and IP* against BL

# %%
if "ablation" in expected_figures:
    ablation = labelled(tables.load(results, "ablation", experiments))
    ablation = ablation[ablation["metric"].isin(["ip", "mmd"])]
    ablation = ablation.assign(quantity=ablation["metric"].map(METRIC_LABELS))
    grid = sns.catplot(
        data=ablation,
        kind="bar",
        x="data",
        y="reduction",
        hue="objective",
        row="quantity",
        hue_order=[m for m in MODEL_ORDER if m in set(ablation["objective"])],
        height=2.6,
        aspect=2.6,
        sharey=False,
    )
    grid.set_axis_labels("", "reduction vs BL (%)")
    for ax in grid.axes.flat:
        ax.axhline(0, c="k", lw=0.8)
    save(grid.figure, "ablation")
else:
    print("ablation was not run in this configuration")

# %% [markdown]
# ## Robust accuracy under FGSM and PGD

# %%
if "robustness_fgsm" in expected_figures:
    robustness = labelled(tables.load(results, "robustness", experiments))
    for attack in ("fgsm", "pgd"):
        part = robustness[robustness["attack"] == attack]
        grid = sns.relplot(
            data=part,
            kind="line",
            x="epsilon",
            y="accuracy",
            hue="objective",
            col="data",
            hue_order=[m for m in MODEL_ORDER if m in set(part["objective"])],
            marker="o",
            height=2.4,
            aspect=1.0,
            col_wrap=min(5, part["data"].nunique()),
        )
        grid.set_axis_labels("ε", "test accuracy")
        grid.set_titles("{col_name}")
        save(grid.figure, f"robustness_{attack}")
