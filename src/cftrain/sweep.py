"""The once-per-epoch counterfactual sweep of CT (method §1.2(a)).

With the model as it stands at the start of the epoch: sample factuals, draw
targets and target-class neighbours, run one batched search, replace immature
counterfactuals by their neighbour, apply ``protect_immutable``, and cut the tuples
into contiguous groups, one per mini-batch. All randomness comes from one
``torch.Generator`` on the model's device, so a run is reproducible (and resumable)
from its state alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cftrain.batch_search import CellSettings, search_cells, stack_generators
from cftrain.categorical import Categorical
from cftrain.constraints import Constraints
from cftrain.generators import Generator
from cftrain.modes import evaluating
from cftrain.sampling import draw_by_class
from cftrain.stacking import StackedModel, stack_models


@dataclass
class Sweep:
    """The epoch's ``nce`` training tuples in sampled order (all on the model's device).

    counterfactual: ``(nce, D)`` x′ — the final search state where mature, else the
    (protected) neighbour itself; neighbour: ``(nce, D)`` x⁺ after protect_immutable;
    adversarial: ``(nce, D)`` nascent example x_AE; target: ``(nce,)`` y⁺;
    label: ``(nce,)`` the factual's true label (for x_AE, deviations §9.5); index: ``(nce,)``
    the factuals' rows in the training data; converged: ``(nce,)`` bool;
    iterations: ``(nce,)`` search steps taken; n_nonfinite: non-finite step entries
    the search set to 0 (deviations §11.6). The sweeps of K cells (:func:`sweep_cells`) have a
    leading cell axis on every tensor, and ``n_nonfinite`` is a ``(K,)`` tensor.
    """

    counterfactual: torch.Tensor
    neighbour: torch.Tensor
    adversarial: torch.Tensor
    target: torch.Tensor
    label: torch.Tensor
    index: torch.Tensor
    converged: torch.Tensor
    iterations: torch.Tensor
    n_nonfinite: int | torch.Tensor = 0


def sample_factuals(n: int, nce: int, rng: torch.Generator) -> torch.Tensor:
    """``nce`` distinct indices of ``0..n-1``, random order (no replacement, method §1.2(a)2)."""
    if not 0 < nce <= n:
        raise ValueError(f"cannot sample nce={nce} factuals without replacement from {n} points")
    return torch.randperm(n, generator=rng, device=rng.device)[:nce]


def draw_targets(predicted: torch.Tensor, n_classes: int, rng: torch.Generator) -> torch.Tensor:
    """Targets uniform over the classes other than the prediction: ``(N,)`` → ``(N,)``.

    Draw r ∈ {0..K−2} and skip the predicted class (method §1.2(a)3); binary data
    always gets the other class.
    """
    if n_classes < 2:
        raise ValueError(f"need at least 2 classes for counterfactual targets, got {n_classes}")
    r = torch.randint(0, n_classes - 1, predicted.shape, generator=rng, device=predicted.device)
    return r + (r >= predicted).long()


def draw_neighbours(
    labels: torch.Tensor, target: torch.Tensor, rng: torch.Generator
) -> torch.Tensor:
    """For each target class, a uniformly drawn index of a point whose *true* label it is.

    labels: ``(N,)`` ground truth of the training points; target: ``(M,)``; returns
    ``(M,)`` indices into the training points, drawn with replacement across rows
    (method §1.2(a)6).
    """
    idx = draw_by_class(labels, target, rng)
    if bool((idx < 0).any()):
        missing = sorted(set(target[idx < 0].tolist()))
        raise ValueError(f"no training point has label(s) {missing}: no neighbour to draw")
    return idx


def protect_immutable(
    neighbour: torch.Tensor, counterfactual: torch.Tensor, constraints: Constraints | None
) -> torch.Tensor:
    """Point-mass prior on protected features: move x⁺ to the counterfactual's value there.

    Per feature d with counterfactual value c_d and neighbour value s_d (method §1.2(a)8):
    ``both`` → s_d; ``none`` → c_d; ``increase`` → max(c_d, s_d); ``decrease`` →
    min(c_d, s_d). The divergence then cannot reward the model for separating x⁺
    and x′ along a feature the counterfactual was not allowed to change (the paper's
    Proposition). Inputs ``(N, D)``; returns a new ``(N, D)`` tensor; without
    mutability constraints the neighbour is returned unchanged.
    """
    if constraints is None or constraints.mutability is None:
        return neighbour
    frozen, increase, decrease = constraints.masks(neighbour)
    out = torch.where(frozen, counterfactual, neighbour)
    out = torch.where(increase, torch.maximum(counterfactual, neighbour), out)
    return torch.where(decrease, torch.minimum(counterfactual, neighbour), out)


def group_sizes(n: int, n_groups: int) -> list[int]:
    """Sizes of ``n_groups`` contiguous near-equal groups of ``n`` items.

    The first ``n mod n_groups`` groups get one extra item (TaijaParallel's
    ``split_obs``, method §1.2(a)10).
    """
    base, extra = divmod(n, n_groups)
    return [base + (i < extra) for i in range(n_groups)]


@evaluating
def run_sweep(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    nce: int,
    generator: Generator,
    constraints: Constraints | None,
    rng: torch.Generator,
    *,
    tau: float,
    max_iter: int,
    step_size: float,
    ae_epsilon: float,
    categorical: Categorical | None = None,
) -> Sweep:
    """Build the epoch's training tuples from training points ``x: (N, D)``, ``y: (N,)``:
    :func:`sweep_cells` for one cell, whose results lose the cell axis."""
    stacked = stack_models([model])
    settings = CellSettings.of([tau], [max_iter], [step_size], [ae_epsilon], like=x)
    generators = stack_generators([generator], like=x)
    found = sweep_cells(
        stacked, x, y, n_classes, nce, generators, constraints, [rng], settings, categorical
    )
    cell = {f.name: getattr(found, f.name)[0] for f in dataclasses.fields(Sweep)}
    return Sweep(**{**cell, "n_nonfinite": int(cell["n_nonfinite"])})


def sweep_cells(
    model: StackedModel,
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    nce: int,
    generator: Generator,
    constraints: Constraints | None,
    rngs: Sequence[torch.Generator],
    settings: CellSettings,
    categorical: Categorical | None = None,
) -> Sweep:
    """The sweeps of K cells (one stacked model, shared data): a :class:`Sweep` whose
    tensors have a leading cell axis and whose ``n_nonfinite`` is ``(K,)``.

    One batched search over all ``nce`` factuals of all cells (method §1.4); the model is
    only read, never updated. Each cell draws from its own ``rngs[k]`` in the order of a
    single-cell sweep: factuals, targets, neighbours, then whatever the generator draws
    (REVISE, Omniscient). ``categorical``: one-hot decoding in the search (method §4.8; the
    reference's sweeps have none).
    """
    idx = torch.stack([sample_factuals(x.shape[0], nce, rng) for rng in rngs])
    factual = x[idx]
    with torch.no_grad():
        predicted = model(factual).argmax(dim=-1)
    target = torch.stack(
        [draw_targets(p, n_classes, rng) for p, rng in zip(predicted, rngs, strict=True)]
    )
    raw_neighbour = x[
        torch.stack([draw_neighbours(y, t, rng) for t, rng in zip(target, rngs, strict=True)])
    ]
    found = search_cells(
        model, factual, target, generator, constraints, settings, rngs, categorical
    )
    mature = found.converged.unsqueeze(-1)
    counterfactual = torch.where(mature, found.counterfactuals, raw_neighbour)
    neighbour = protect_immutable(raw_neighbour, counterfactual, constraints)
    # an immature pair is (x⁺, x⁺): protection left x⁺ unchanged there, since c = s
    counterfactual = torch.where(mature, counterfactual, neighbour)
    n_nonfinite = found.n_nonfinite
    if isinstance(n_nonfinite, int):  # a search-free generator
        n_nonfinite = torch.full((len(rngs),), n_nonfinite, dtype=torch.long)
    return Sweep(
        counterfactual=counterfactual,
        neighbour=neighbour,
        adversarial=found.nascent,
        target=target,
        label=y[idx],
        index=idx,
        converged=found.converged,
        iterations=found.iterations,
        n_nonfinite=n_nonfinite,
    )
