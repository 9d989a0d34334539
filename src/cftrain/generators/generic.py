"""Generic generator (the paper's "Wachter"): cross-entropy + λ_cost·L1 (method §2.2;
deviations §9.10)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cftrain.generators.base import Generator, l1_distance


@dataclass(frozen=True)
class Generic(Generator):
    """Unweighted L1 cost, not the MAD-weighted Wachter distance (as the reference's Generic)."""

    lambda_cost: float = 0.001

    def penalty(self, x_cf, x_factual, logits, target, t, max_iter) -> torch.Tensor:
        return self.lambda_cost * l1_distance(x_cf, x_factual)
