"""REVISE: L1 cost on the decoded point, search in a VAE's latent space (method §2.4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from cftrain.generators.base import Generator, l1_distance
from cftrain.vae import VAE


@dataclass(frozen=True, eq=False)
class REVISE(Generator):
    """Encoding is stochastic and mutability is not applied in latent space, as the reference."""

    vae: VAE
    lambda_cost: float = 0.001
    latent = True

    def encode(self, x: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
        return self.vae.encode(x, rng)

    def encode_cells(
        self, x: torch.Tensor, rngs: Sequence[torch.Generator | None], n_live: Sequence[int]
    ) -> torch.Tensor:
        mu, log_sigma = self.vae.stats(x)
        eps = torch.zeros_like(mu)
        for k, (rng, n) in enumerate(zip(rngs, n_live, strict=True)):
            shape = (n, mu.shape[-1])
            eps[k, :n] = torch.randn(shape, generator=rng, dtype=mu.dtype, device=mu.device)
        return mu + log_sigma.exp() * eps

    def decode(self, s: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(s)

    def penalty(self, x_cf, x_factual, logits, target, t, max_iter) -> torch.Tensor:
        return self.lambda_cost * l1_distance(x_cf, x_factual)
