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
# # Proof of concept on LS (the original's Figure 1, method §5.6, deviations §9.13)
#
# BL and CT models of LS, without protected features (`single`) and, where `mutability` ran on
# LS, with the first coordinate protected. Each panel shows the model's probability of the
# target class, the test data, and the paths of counterfactual searches from the same factuals
# towards the other class. The searches use the Generic generator (distance penalty only), so
# what separates the panels is the model, not the generator.

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from cftrain import data
from cftrain.generators import Generic
from cftrain.pipeline.jobs import load_model
from cftrain.pipeline.reporting import figures, style
from cftrain.pipeline.reporting.names import model_label
from cftrain.search import search

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"single": ["lin_sep"], "mutability": ["lin_sep"]}
expected_figures = None
n_factuals = 6
tau = 0.75  # the original figure's threshold (method §5.6)
max_iter = 100
n_points = 400  # test points drawn in each panel

# %%
torch.set_num_threads(1)
style.use()
if expected_figures is None:
    expected_figures = figures.expected(datasets, "poc")


def first_seed_models(experiment):
    """objective label → the model of ``experiment`` on LS at its first training seed."""
    found = {}
    params = sorted(Path(results, experiment, "lin_sep").glob("*/seed*/params.json"))
    if not params:
        return found
    first = min(int(p.parent.name.removeprefix("seed")) for p in params)
    for p in params:
        if p.parent.name == f"seed{first}":
            objective = json.loads(p.read_text())["config"]["objective"]
            found[model_label(objective)] = p.parent
    return found


# %% [markdown]
# The panels: BL and CT of `single`; BL and CT of `mutability` with the protected feature
# fixed during the search, where that experiment ran on LS.

# %%
panels = []
if "poc" in expected_figures:
    ds = data.load("lin_sep")
    protected = ", ".join(f"$x_{{{i + 1}}}$" for i in ds.protected)
    runs = [("single", False)]
    if "lin_sep" in datasets.get("mutability", []):
        runs.append(("mutability", True))
    for experiment, protect in runs:
        found = first_seed_models(experiment)
        for objective in ("BL", "CT"):
            if objective in found:
                title = objective + (f", {protected} protected" if protect else "")
                model = load_model(found[objective], ds, torch.device("cpu"))
                panels.append((title, model, protect))
    print([p[0] for p in panels])

# %%
if panels:
    x_test, y_test = ds.tensors("test")
    rng = np.random.default_rng(0)
    shown = rng.choice(len(x_test), size=min(n_points, len(x_test)), replace=False)
    # the same factuals in every panel: test points of class 0, spread along the cluster
    pool = torch.nonzero(y_test == 0).flatten()
    picks = pool[torch.argsort(x_test[pool, 1])][:: max(1, len(pool) // n_factuals)][:n_factuals]
    factuals = x_test[picks]
    targets = torch.ones(len(factuals), dtype=torch.long)
    lo = x_test.min(0).values - 1.0
    hi = x_test.max(0).values + 1.0
    gx, gy = torch.meshgrid(
        torch.linspace(float(lo[0]), float(hi[0]), 200),
        torch.linspace(float(lo[1]), float(hi[1]), 200),
        indexing="xy",
    )
    grid = torch.stack([gx.flatten(), gy.flatten()], 1)

    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=style.size(1.0, 2.1),
        sharex=True,
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    for i, (ax, (title, model, protect)) in enumerate(zip(axes[0], panels, strict=True)):
        with torch.no_grad():
            prob = torch.softmax(model(grid), 1)[:, 1].reshape(gx.shape)
        mesh = ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.55)
        ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=0.8)
        ax.scatter(
            x_test[shown, 0],
            x_test[shown, 1],
            c=y_test[shown],
            cmap="coolwarm",
            s=3,
            linewidths=0,
            alpha=0.6,
        )
        found = search(
            model,
            factuals,
            targets,
            Generic(),
            ds.constraints(protect),
            tau=tau,
            max_iter=max_iter,
            keep_path=True,
        )
        path = found.path.detach()
        for j in range(len(factuals)):
            ax.plot(path[:, j, 0], path[:, j, 1], c="k", lw=0.9)
            ax.plot(*factuals[j], "o", mfc="white", mec="k", ms=3.5)
            ax.plot(*found.counterfactuals[j].detach(), "*", c="gold", mec="k", mew=0.4, ms=7)
        ax.set_title(f"({chr(97 + i)}) {title}")
        ax.set_xlabel("$x_1$")
        ax.set_xlim(float(lo[0]), float(hi[0]))
        ax.set_ylim(float(lo[1]), float(hi[1]))
        ax.grid(False)
    axes[0, 0].set_ylabel("$x_2$")
    bar = fig.colorbar(mesh, ax=axes[0, -1], shrink=0.9, pad=0.02)
    bar.set_label("probability of class 1")
    figures.save(fig, "poc", figures_dir, expected_figures)
    plt.close(fig)
