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
# # The seed draft's initial grid (method §2.7)
#
# Plausibility (negative IP, higher is better) of models trained with four training-time
# generators (ECCo, Generic, Omniscient, REVISE) and the energy weight λ_energy, against the
# vanilla baseline; evaluated with the paper's ECCo protocol and with each generator's own.

# %%
import matplotlib.pyplot as plt
import seaborn as sns

from cftrain.pipeline.reporting import figures, tables
from cftrain.pipeline.reporting.names import dataset_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"initial_grid": []}
expected_figures = None

# %%
sns.set_theme(style="white", context="paper")
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "initial_grid")

# %% [markdown]
# One heat map per dataset and evaluation protocol: rows are the objective and training
# λ_energy (BL has none), columns the training-time generator.

# %%
if "initial_grid_heatmap" in expected_figures:
    grid = tables.load(results, "initial_grid", experiments, all_rows=True)
    grid = grid[grid["seed"] == grid["seed"].min()]
    grid = grid.assign(
        data=grid["dataset"].map(dataset_label),
        row=[
            "BL" if o == "vanilla" else f"CT λ={lam:g}"
            for o, lam in zip(grid["objective"], grid["lambda_energy"], strict=True)
        ],
        lam=grid["lambda_energy"].fillna(-1.0),
    )
    panels = grid[["data", "protocol"]].drop_duplicates().values.tolist()
    n_data, n_prot = grid["data"].nunique(), grid["protocol"].nunique()
    fig, axes = plt.subplots(
        n_data,
        n_prot,
        figsize=(4.2 * n_prot, 0.45 * grid["row"].nunique() * n_data + 1.2),
        squeeze=False,
    )
    for ax, (data, protocol) in zip(axes.flat, panels, strict=True):
        part = grid[(grid["data"] == data) & (grid["protocol"] == protocol)]
        order = part.sort_values("lam")["row"].drop_duplicates()
        wide = part.pivot_table(
            index="row", columns="generator", values="plausibility_mean", aggfunc="mean"
        ).reindex(order)
        sns.heatmap(wide, annot=True, fmt=".2f", cmap="viridis", ax=ax, cbar=False)
        ax.set(title=f"{data}, evaluated with {protocol}", xlabel="training generator", ylabel="")
    fig.tight_layout()
    figures.save(fig, "initial_grid_heatmap", figures_dir, expected_figures)
    plt.close(fig)
else:
    print("initial_grid was not run in this configuration")
