"""What every counterfactual generator provides to the one search loop (method §2.1).

A generator is small: the penalty it adds to the cross-entropy towards the target,
and its state space (feature space, or a latent space with encode/decode). The loop
itself lives in :mod:`cftrain.search` and is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from cftrain.search import SearchResult
    from cftrain.stacking import StackedModel


class Generator:
    """Feature-space generator with no penalty; subclasses override what differs."""

    #: searching in a latent space: mutability projection does not apply (method §2.4)
    latent: bool = False

    def encode(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        """Features ``(N, D)`` → search state ``(N, S)``."""
        return x

    def encode_cells(
        self, x: torch.Tensor, rngs: Sequence[torch.Generator | None], n_live: Sequence[int]
    ) -> torch.Tensor:
        """Features ``(K, W, D)`` of K cells → states ``(K, W, S)``; cell k's random draws
        come from ``rngs[k]``, for its first ``n_live[k]`` rows only (the rest is padding)."""
        return x

    def decode(self, s: torch.Tensor) -> torch.Tensor:
        """Search state ``(..., S)`` → features ``(..., D)``, differentiable."""
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
        """Per-row penalty ``(..., N)`` at counterfactuals ``x_cf: (..., N, D)``.

        ``logits: (..., N, C)`` = model(x_cf); ``t: (..., N)`` = steps taken so far + 1, or
        ``(..., 1)`` where all rows have taken as many.
        With a leading cell axis the generator's weights and ``max_iter`` are ``(K, 1)``
        tensors (:func:`cftrain.batch_search.stack_generators`).
        """
        return x_cf.new_zeros(x_cf.shape[:-1])

    def propose(
        self, model: nn.Module, x: torch.Tensor, target: torch.Tensor, rng: torch.Generator | None
    ):
        """Search-free generators return a finished ``SearchResult``; gradient ones ``None``."""
        return None

    def propose_cells(
        self,
        model: StackedModel,
        x: torch.Tensor,
        target: torch.Tensor,
        rngs: Sequence[torch.Generator | None],
    ) -> SearchResult | None:
        """:meth:`propose` for K cells: ``x: (K, N, D)``, ``target: (K, N)``."""
        return None


def l1_distance(x_cf: torch.Tensor, x_factual: torch.Tensor) -> torch.Tensor:
    """‖x′ − x‖₁ per row ``(..., N)``; its gradient at exactly 0 is 0, as in the reference."""
    return (x_cf - x_factual).abs().sum(dim=-1)
