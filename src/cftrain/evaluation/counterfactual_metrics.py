"""Per-counterfactual measures of SPEC §5.2, vectorised over many counterfactuals.

All functions take factuals ``x: (N, D)`` and counterfactuals ``x_cf: (N, D)`` row by row and
return one value per row, so a whole benchmark (runs × individuals) is measured in one call.
"""

from __future__ import annotations

import torch
from torch import nn

from cftrain.constraints import Constraints
from cftrain.evaluation.performance import predict

UNCHANGED_TOL = 1e-5  # |x′_d − x_d| below this counts as unchanged (CE.jl `redundancy`)
DEFAULT_IP_SAMPLES = 1000  # target-class draws per counterfactual (SPEC §5.2)
_IP_CHUNK_ELEMENTS = 2**24  # bound on the (rows × pool) distance block


def validity(model: nn.Module, x_cf: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``argmax M(x′) == y⁺`` → (N,) bool (SPEC §2.1; ``validity_strict`` is identical)."""
    return predict(model, x_cf) == target


def cost(x: torch.Tensor, x_cf: torch.Tensor) -> torch.Tensor:
    """L1 distance ``‖x′ − x‖₁`` → (N,)."""
    return (x_cf - x).abs().sum(dim=1)


def redundancy(x: torch.Tensor, x_cf: torch.Tensor, tol: float = UNCHANGED_TOL) -> torch.Tensor:
    """Fraction of features left unchanged → (N,): higher means sparser counterfactuals."""
    return ((x_cf - x).abs() < tol).to(x.dtype).mean(dim=1)


def draw_target_neighbours(
    target: torch.Tensor,
    y_ref: torch.Tensor,
    generator: torch.Generator,
    n_samples: int = DEFAULT_IP_SAMPLES,
) -> torch.Tensor:
    """Indices ``(N, n_samples)`` into the reference set, drawn with replacement per row
    from the points whose *true* label is that row's target (SPEC §5.2, §10)."""
    idx = torch.empty(target.numel(), n_samples, dtype=torch.long, device=y_ref.device)
    for c in torch.unique(target).tolist():
        rows = (target == c).nonzero().flatten()
        pool = (y_ref == c).nonzero().flatten()
        if pool.numel() == 0:
            raise ValueError(f"no reference point has label {c}; IP is undefined for that target")
        draws = torch.randint(pool.numel(), (rows.numel(), n_samples), generator=generator)
        idx[rows] = pool[draws.to(pool.device)]
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

    Reported as a positive distance (CE.jl reports −IP). The draws of
    :func:`draw_target_neighbours` are turned into per-row counts over the reference set, so the
    cost is one ``cdist`` against the reference set instead of ``N × n_samples`` gathers.
    """
    idx = draw_target_neighbours(target, y_ref, generator, n_samples)
    n_ref = x_ref.shape[0]
    out = torch.empty(x_cf.shape[0], dtype=x_cf.dtype, device=x_cf.device)
    step = max(1, _IP_CHUNK_ELEMENTS // max(n_ref, 1))
    for lo in range(0, x_cf.shape[0], step):
        sl = slice(lo, lo + step)
        counts = x_cf.new_zeros(idx[sl].shape[0], n_ref)
        counts.scatter_add_(1, idx[sl], x_cf.new_ones(idx[sl].shape))
        out[sl] = (counts * torch.cdist(x_cf[sl], x_ref, p=1.0)).sum(dim=1) / n_samples
    return out


def constraint_violations(
    x: torch.Tensor, x_cf: torch.Tensor, constraints: Constraints | None, tol: float = UNCHANGED_TOL
) -> dict[str, torch.Tensor]:
    """Per-row (N,) bool flags: an immutable feature moved, a one-directional feature moved the
    wrong way, the domain ``[lower, upper]`` was left (SPEC §2.1, §4.5, §4.7)."""
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
