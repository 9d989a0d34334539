"""Omniscient baseline of the seed draft (method §2.6): no search at all.

Each factual's "counterfactual" is a pool (training) point drawn uniformly among those
the current model predicts as the target class. Where no pool point is predicted as
the target, a random pool point is returned with ``converged=False``, so training
treats the pair like a non-converged one (deviations §11.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from cftrain.generators.base import Generator
from cftrain.sampling import draw_by_class
from cftrain.search import SearchResult

if TYPE_CHECKING:
    from cftrain.stacking import StackedModel


@dataclass(frozen=True, eq=False)
class Omniscient(Generator):
    """``pool: (M, D)`` candidate points, usually the training features."""

    pool: torch.Tensor

    def propose(
        self, model: nn.Module, x: torch.Tensor, target: torch.Tensor, rng: torch.Generator | None
    ) -> SearchResult:
        pool = self.pool.to(x.device)
        with torch.no_grad():
            predicted = model(pool).argmax(dim=1)
        return _pick(pool, predicted, x, target, rng)

    def propose_cells(
        self,
        model: StackedModel,
        x: torch.Tensor,
        target: torch.Tensor,
        rngs: Sequence[torch.Generator | None],
    ) -> SearchResult:
        pool = self.pool.to(x.device)
        with torch.no_grad():
            predicted = model(pool.expand(x.shape[0], *pool.shape)).argmax(dim=-1)
        picks = [
            _pick(pool, p, xk, t, rng)
            for p, xk, t, rng in zip(predicted, x, target, rngs, strict=True)
        ]
        fields = ("counterfactuals", "converged", "iterations", "nascent")
        return SearchResult(**{f: torch.stack([getattr(p, f) for p in picks]) for f in fields})


def _pick(
    pool: torch.Tensor,
    predicted: torch.Tensor,
    x: torch.Tensor,
    target: torch.Tensor,
    rng: torch.Generator | None,
) -> SearchResult:
    """One cell's pick among the ``pool`` points whose ``predicted`` class is the target."""
    chosen = draw_by_class(predicted, target, rng)
    found = chosen >= 0
    device = x.device if rng is None else rng.device
    fallback = torch.randint(pool.shape[0], chosen.shape, generator=rng, device=device)
    chosen = torch.where(found, chosen, fallback.to(x.device))
    return SearchResult(
        counterfactuals=pool[chosen].clone(),
        converged=found,
        iterations=torch.zeros(x.shape[0], dtype=torch.long, device=x.device),
        nascent=x.clone(),
    )
