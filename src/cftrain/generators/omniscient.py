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
from cftrain.sampling import draw_by_class
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
