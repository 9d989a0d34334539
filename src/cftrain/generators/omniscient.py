"""Omniscient baseline of the seed draft (SPEC §2.6): no search at all.

Each factual's "counterfactual" is a pool (training) point drawn uniformly among those
the current model predicts as the target class. Where no pool point is predicted as
the target, a random pool point is returned with ``converged=False``, so training
treats the pair like a non-converged one (SPEC §11.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cftrain.generators.base import Generator
from cftrain.search import SearchResult


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
        n_classes = int(max(predicted.max(), target.max())) + 1
        counts = torch.bincount(predicted, minlength=n_classes)
        starts = torch.cumsum(counts, 0) - counts
        by_class = torch.argsort(predicted, stable=True)
        u = torch.rand(x.shape[0], generator=rng, device=x.device, dtype=torch.float64)
        available = counts[target]
        pick = (u * available).long().clamp(max=(available - 1).clamp(min=0))
        chosen = by_class[(starts[target] + pick).clamp(max=pool.shape[0] - 1)]
        fallback = (u * pool.shape[0]).long().clamp(max=pool.shape[0] - 1)
        found = available > 0
        chosen = torch.where(found, chosen, fallback)
        return SearchResult(
            counterfactuals=pool[chosen].clone(),
            converged=found,
            iterations=torch.zeros(x.shape[0], dtype=torch.long, device=x.device),
            nascent=x.clone(),
        )
