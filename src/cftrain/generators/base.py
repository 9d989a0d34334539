"""What every counterfactual generator provides to the one search loop (SPEC §2.1).

A generator is small: the penalty it adds to the cross-entropy towards the target,
and its state space (feature space, or a latent space with encode/decode). The loop
itself lives in :mod:`cftrain.search` and is written once.
"""

from __future__ import annotations

import torch
from torch import nn


class Generator:
    """Feature-space generator with no penalty; subclasses override what differs."""

    #: searching in a latent space: mutability projection does not apply (SPEC §2.4)
    latent: bool = False

    def encode(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """Features ``(N, D)`` → search state ``(N, S)``."""
        return x

    def decode(self, s: torch.Tensor) -> torch.Tensor:
        """Search state ``(N, S)`` → features ``(N, D)``, differentiable."""
        return s

    def penalty(
        self,
        x_cf: torch.Tensor,
        x_factual: torch.Tensor,
        logits: torch.Tensor,
        target: torch.Tensor,
        t: torch.Tensor,
        max_iter: int,
    ) -> torch.Tensor:
        """Per-row penalty ``(N,)`` at counterfactuals ``x_cf: (N, D)``.

        ``logits: (N, K)`` = model(x_cf); ``t: (N,)`` = steps taken so far + 1.
        """
        return x_cf.new_zeros(x_cf.shape[0])

    def propose(
        self, model: nn.Module, x: torch.Tensor, target: torch.Tensor, rng: torch.Generator | None
    ):
        """Search-free generators return a finished ``SearchResult``; gradient ones ``None``."""
        return None


def l1_distance(x_cf: torch.Tensor, x_factual: torch.Tensor) -> torch.Tensor:
    """‖x′ − x‖₁ per row ``(N,)``; its gradient at exactly 0 is 0, as in the reference."""
    return (x_cf - x_factual).abs().sum(dim=1)
