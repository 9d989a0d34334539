"""Per-counterfactual measures of method §5.2, vectorised over many counterfactuals.

All functions take factuals ``x: (N, D)`` and counterfactuals ``x_cf: (N, D)`` row by row and
return one value per row, so a whole benchmark (runs × individuals) is measured in one call.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from cftrain.constraints import Constraints
from cftrain.evaluation.performance import predict
from cftrain.generators.base import l1_distance

UNCHANGED_TOL = 1e-5  # |x′_d − x_d| below this counts as unchanged (CE.jl `redundancy`)
DEFAULT_IP_SAMPLES = 1000  # target-class draws per counterfactual (method §5.2)
_IP_CHUNK_ROWS = 4096  # rows per block of draws and distances (bounds memory)


def validity(model: nn.Module, x_cf: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``argmax M(x′) == y⁺`` → (N,) bool (method §2.1; ``validity_strict`` is identical)."""
    return predict(model, x_cf) == target


def cost(x: torch.Tensor, x_cf: torch.Tensor) -> torch.Tensor:
    """L1 distance ``‖x′ − x‖₁`` → (N,): the same distance the generators penalise."""
    return l1_distance(x_cf, x)


def redundancy(x: torch.Tensor, x_cf: torch.Tensor, tol: float = UNCHANGED_TOL) -> torch.Tensor:
    """Fraction of features left unchanged → (N,): higher means sparser counterfactuals."""
    return ((x_cf - x).abs() < tol).to(x.dtype).mean(dim=1)


def _target_draws(
    target: torch.Tensor, y_ref: torch.Tensor, generator: torch.Generator, n_samples: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per target class and chunk of rows: ``(rows, pool, draws)`` with ``pool`` the reference
    indices of that class (by *true* label) and ``draws: (len(rows), n_samples)`` positions in
    ``pool`` drawn uniformly with replacement (method §5.2, §10)."""
    for c in torch.unique(target).tolist():
        pool = (y_ref == c).nonzero().flatten()
        if pool.numel() == 0:
            raise ValueError(f"no reference point has label {c}; IP is undefined for that target")
        for rows in (target == c).nonzero().flatten().split(_IP_CHUNK_ROWS):
            draws = torch.randint(pool.numel(), (rows.numel(), n_samples), generator=generator)
            yield rows, pool, draws.to(pool.device)


def draw_target_neighbours(
    target: torch.Tensor,
    y_ref: torch.Tensor,
    generator: torch.Generator,
    n_samples: int = DEFAULT_IP_SAMPLES,
) -> torch.Tensor:
    """Indices ``(N, n_samples)`` into the reference set: the draws :func:`implausibility`
    makes with the same generator state, each row from the points labelled as its target."""
    idx = torch.empty(target.numel(), n_samples, dtype=torch.long, device=y_ref.device)
    for rows, pool, draws in _target_draws(target, y_ref, generator, n_samples):
        idx[rows] = pool[draws]
    return idx


def implausibility(
    x_cf: torch.Tensor,
    target: torch.Tensor,
    x_ref: torch.Tensor,
    y_ref: torch.Tensor,
    generator: torch.Generator,
    n_samples: int = DEFAULT_IP_SAMPLES,
) -> torch.Tensor:
    """IP: mean L1 distance of each counterfactual to ``n_samples`` target-class draws → (N,).

    Reported as a positive distance (CE.jl reports −IP). The draws are turned into per-row
    counts over the target class, so the cost is one ``cdist`` against that class instead of
    ``N × n_samples`` gathers.
    """
    out = torch.empty(x_cf.shape[0], dtype=x_cf.dtype, device=x_cf.device)
    for rows, pool, draws in _target_draws(target, y_ref.to(x_cf.device), generator, n_samples):
        counts = x_cf.new_zeros(rows.numel(), pool.numel())
        counts.scatter_add_(1, draws, x_cf.new_ones(draws.shape))
        out[rows] = (counts * torch.cdist(x_cf[rows], x_ref[pool], p=1.0)).sum(dim=1) / n_samples
    return out


def constraint_violations(
    x: torch.Tensor, x_cf: torch.Tensor, constraints: Constraints | None, tol: float = UNCHANGED_TOL
) -> dict[str, torch.Tensor]:
    """Per-row (N,) bool flags: an immutable feature moved, a one-directional feature moved the
    wrong way, the domain ``[lower, upper]`` was left (method §2.1, §4.5, §4.7)."""
    none = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    flags = {"immutable_moved": none, "direction_violated": none, "domain_left": none}
    if constraints is None:
        return flags
    delta = x_cf - x
    if constraints.mutability is not None:
        frozen, inc, dec = constraints.masks(x)
        flags["immutable_moved"] = ((delta.abs() > tol) & frozen).any(dim=1)
        flags["direction_violated"] = ((delta < -tol) & inc | (delta > tol) & dec).any(dim=1)
    if constraints.lower is not None:
        lo = constraints.lower.to(device=x.device, dtype=x.dtype)
        hi = constraints.upper.to(device=x.device, dtype=x.dtype)
        flags["domain_left"] = ((x_cf < lo - tol) | (x_cf > hi + tol)).any(dim=1)
    return flags
