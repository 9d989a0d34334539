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
# # MNIST: counterfactual images and integrated gradients (method §5.6)
#
# The `mutability` MNIST models (BL and CT; top and bottom five pixel rows protected).
# Counterfactuals of one test image of a zero towards every other digit, found by ECCo at
# λ_energy = 1 with a long search; and integrated gradients per digit class, averaged over
# test images and min–max normalised.

# %%
import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from cftrain import data
from cftrain.evaluation import integrated_gradients, random_baseline
from cftrain.generators import ECCo
from cftrain.pipeline.jobs import load_model
from cftrain.pipeline.reporting import figures, style
from cftrain.pipeline.reporting.names import model_label
from cftrain.search import search

# %% tags=["parameters"]
results = "results"
figures_dir = "results/figures"
datasets = {"mutability": ["mnist"]}
expected_figures = None
factual_digit = 0
lambda_energy = 1.0
max_iter = 1000
tau = 0.95
ig_images_per_class = 20

# %%
torch.set_num_threads(1)
style.use()
experiments = list(datasets)
if expected_figures is None:
    expected_figures = figures.expected(datasets, "mnist")


def save(fig, name):
    figures.save(fig, name, figures_dir, expected_figures)
    plt.close(fig)


def image(ax, x, cmap="gray", vmin=-1.0, vmax=1.0):
    shown = ax.imshow(x.reshape(28, 28).cpu().numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return shown


# %% [markdown]
# The models: every cell of `mutability` on MNIST at its first training seed (the paper's).

# %%
models = {}
if expected_figures:
    ds = data.load("mnist")
    params = sorted(Path(results, "mutability", "mnist").glob("*/seed*/params.json"))
    first = min(int(p.parent.name.removeprefix("seed")) for p in params)
    for p in params:
        if p.parent.name == f"seed{first}":
            objective = json.loads(p.read_text())["config"]["objective"]
            models[model_label(objective)] = load_model(p.parent, ds, torch.device("cpu"))
    models = dict(sorted(models.items(), key=lambda kv: kv[0] != "BL"))
    print(sorted(models))

# %% [markdown]
# ## Counterfactuals of a zero towards every other digit

# %%
if "mnist_counterfactuals" in expected_figures:
    x_test, y_test = ds.tensors("test")
    factual = x_test[y_test == factual_digit][:1]
    targets = torch.tensor([d for d in range(ds.n_classes) if d != factual_digit])
    fig, axes = plt.subplots(
        len(models),
        len(targets) + 1,
        figsize=style.size(1.0, 0.75 * len(models) + 0.3),
        layout="constrained",
        squeeze=False,
    )
    for row, (name, model) in zip(axes, models.items(), strict=True):
        result = search(
            model,
            factual.expand(len(targets), -1),
            targets,
            ECCo(lambda_cost=0.0, lambda_energy=lambda_energy),
            ds.constraints(True),
            tau=tau,
            max_iter=max_iter,
        )
        shown = image(row[0], factual[0])
        row[0].set_ylabel(name)
        row[0].set_title("factual")
        for ax, target, cf in zip(row[1:], targets.tolist(), result.counterfactuals, strict=True):
            image(ax, cf.detach())
            ax.set_title(f"to {target}")
    bar = fig.colorbar(shown, ax=axes, shrink=0.9, pad=0.01, aspect=12)
    bar.set_label("pixel value")
    save(fig, "mnist_counterfactuals")

# %% [markdown]
# ## Integrated gradients per digit class

# %%
if "mnist_ig" in expected_figures:
    x_test, y_test = ds.tensors("test")
    fig, axes = plt.subplots(
        len(models),
        ds.n_classes,
        figsize=style.size(1.0, 0.75 * len(models) + 0.3),
        layout="constrained",
        squeeze=False,
    )
    for row, (name, model) in zip(axes, models.items(), strict=True):
        for digit, ax in enumerate(row):
            x = x_test[y_test == digit][:ig_images_per_class]
            baseline = random_baseline(x, torch.Generator().manual_seed(digit))
            g = integrated_gradients(model, x, torch.full((len(x),), digit), baseline).mean(0)
            g = (g - g.min()) / (g.max() - g.min())
            shown = image(ax, g.detach(), cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"digit {digit}")
        row[0].set_ylabel(name)
    bar = fig.colorbar(shown, ax=axes, shrink=0.9, pad=0.01, aspect=12)
    bar.set_label("attribution\n(min–max per map)")
    save(fig, "mnist_ig")
