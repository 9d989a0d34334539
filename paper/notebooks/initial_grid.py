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
# generators (ECCo, Generic, Omniscient, REVISE) and the energy weight λ_egy, against the
# baseline BL; evaluated with the paper's ECCo protocol and with each generator's own.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from cftrain.pipeline.reporting import figures, style, tables
from cftrain.pipeline.reporting.names import dataset_label, generator_label

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"initial_grid": []}
expected_figures = None

# %%
style.use()
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "initial_grid")
PROTOCOLS = {"ecco": "evaluated with ECCo", "own": "evaluated with the training generator"}

# %% [markdown]
# One heat map per dataset (rows of panels) and evaluation protocol (columns): rows are BL and
# CT at each training λ_egy, columns the training-time generator. Both panels of a dataset
# share one colour scale, shown by the bar at the row's end, so colours compare within a
# dataset; the datasets' plausibility differs in scale.

# %%
if "initial_grid_heatmap" in expected_figures:
    grid = tables.load(results, "initial_grid", experiments, all_rows=True)
    grid = grid[grid["seed"] == grid["seed"].min()]
    grid = grid.assign(
        row=[
            "BL" if o == "vanilla" else f"CT, {lam:g}"
            for o, lam in zip(grid["objective"], grid["lambda_energy"], strict=True)
        ],
        lam=grid["lambda_energy"].fillna(-1.0),
    )
    order = list(tables.dataset_sorted(grid[["dataset"]].drop_duplicates())["dataset"])
    protocols = sorted(set(grid["protocol"]), key=lambda p: (p != "ecco", p))
    generators = [
        g for g in ("ecco", "generic", "omniscient", "revise") if g in set(grid["generator"])
    ]
    n_rows = grid["row"].nunique()
    panel_height = min(0.2 * n_rows + 0.5, (style.MAX_FIGURE_HEIGHT_IN - 0.5) / len(order))
    fig, axes = plt.subplots(
        len(order),
        len(protocols),
        figsize=style.size(1.0, panel_height * len(order) + 0.4),
        layout="constrained",
        squeeze=False,
    )
    for r, data in enumerate(order):
        part = grid[grid["dataset"] == data]
        norm = Normalize(part["plausibility_mean"].min(), part["plausibility_mean"].max())
        for c, protocol in enumerate(protocols):
            ax = axes[r, c]
            cell = part[part["protocol"] == protocol]
            rows = list(cell.sort_values("lam")["row"].drop_duplicates())
            wide = cell.pivot_table(
                index="row", columns="generator", values="plausibility_mean", aggfunc="mean"
            ).reindex(index=rows, columns=generators)
            image = ax.imshow(wide.to_numpy(), cmap="viridis", norm=norm, aspect="auto")
            for (i, j), value in np.ndenumerate(wide.to_numpy()):
                if np.isfinite(value):
                    shade = "k" if norm(value) > 0.6 else "w"
                    ax.text(
                        j,
                        i,
                        f"{value:.2f}".replace("-", "\u2212"),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color=shade,
                    )
            ax.set_xticks(range(len(generators)), [generator_label(g) for g in generators])
            ax.set_yticks(range(len(rows)), rows)
            ax.tick_params(length=0)
            ax.grid(False)
            ax.set_title(f"{dataset_label(data)}, {PROTOCOLS.get(protocol, protocol)}")
            if c == 0:
                ax.set_ylabel("model, training $\\lambda_{\\mathrm{egy}}$")
        bar = fig.colorbar(image, ax=list(axes[r]), shrink=0.95, pad=0.01, aspect=15)
        bar.set_label("plausibility ($-$IP)")
    figures.save(fig, "initial_grid_heatmap", figures_dir, expected_figures)
    plt.close(fig)
else:
    print("initial_grid was not run in this configuration")
