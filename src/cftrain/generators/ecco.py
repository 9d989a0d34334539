"""ECCo: ECCCo without its conformal term — L1 cost + a decaying energy penalty (method §2.3)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cftrain.generators.base import Generator, l1_distance
from cftrain.objectives import energy
from cftrain.stacking import ROW_QUANTUM

#: weight of the quadratic energy term inside the energy constraint (method §2.3)
ENERGY_REG = 1e-3
#: exponent of the energy penalty's decay schedule (method §2.3)
ENERGY_DECAY = 0.9


def energy_schedule(t: torch.Tensor | int, max_iter: int | torch.Tensor) -> torch.Tensor:
    """φ_t = a·(b + t)^(−0.9), b = round(T/25) (ties to even, as Julia), a = b/10.

    For T < 13, b = 0 and φ ≡ 0: the energy term vanishes (deviations §9.11). ``max_iter``
    may be a tensor of per-cell T broadcasting against ``t`` (same float64 operations); a
    ``t`` of one column (one step count per cell) is widened to whole SIMD chunks while
    the power is taken, so that it runs the vectorised kernel a row-wide ``t`` runs.
    """
    t = torch.as_tensor(t, dtype=torch.float64)
    if isinstance(max_iter, torch.Tensor):
        b = torch.round(max_iter.to(device=t.device, dtype=torch.float64) / 25)
        column = t.dim() > 0 and t.shape[-1] == 1
        steps = t.expand(*t.shape[:-1], ROW_QUANTUM) if column else t
        phi = torch.where(b == 0, 0.0, b / 10 * (b + steps) ** (-ENERGY_DECAY))
        return phi[..., :1] if column else phi
    b = round(max_iter / 25)
    a = b / 10
    if b == 0:
        return torch.zeros_like(t)
    return a * (b + t) ** (-ENERGY_DECAY)


@dataclass(frozen=True)
class ECCo(Generator):
    """Defaults are the training-time values of the final runs (method §0)."""

    lambda_cost: float = 0.001
    lambda_energy: float = 5.0

    def penalty(self, x_cf, x_factual, logits, target, t, max_iter) -> torch.Tensor:
        e = energy(logits, target)
        phi = energy_schedule(t, max_iter).to(device=e.device, dtype=e.dtype)
        return self.lambda_cost * l1_distance(x_cf, x_factual) + self.lambda_energy * phi * (
            e + ENERGY_REG * e**2
        )
