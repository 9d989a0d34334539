"""Integrated gradients and the protected-feature sensitivity statistic (method §5.5;
deviations §9.22, §11.4–5).

IG (Sundararajan et al.) of the true-class logit along the straight path from a random
baseline ``U(−1, 1)`` to the input, integrated with the trapezoid rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cftrain.modes import evaluating

DEFAULT_IG_STEPS = 50  # deviations §9.22 / §11.5
DEFAULT_ROUNDS = 100
DEFAULT_SAMPLE_SIZE = 2500
_CHUNK_ELEMENTS = 2**22  # bound on interpolated points (rows × features) per backward pass


def random_baseline(
    like: torch.Tensor, generator: torch.Generator, low: float = -1.0, high: float = 1.0
) -> torch.Tensor:
    """One independent ``U(low, high)`` baseline per row of ``like: (N, D)`` → (N, D)."""
    u = torch.rand(like.shape, generator=generator, dtype=like.dtype).to(like.device)
    return low + (high - low) * u


@evaluating
def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    baseline: torch.Tensor,
    n_steps: int = DEFAULT_IG_STEPS,
) -> torch.Tensor:
    """IG of logit ``target`` for ``x: (N, D)`` from ``baseline: (N, D)`` → (N, D).

    ``n_steps`` trapezoid intervals (``n_steps + 1`` gradient evaluations). Completeness:
    the rows sum to ``M(x)[t] − M(baseline)[t]`` up to the quadrature error.
    """
    alphas = torch.linspace(0, 1, n_steps + 1, dtype=x.dtype, device=x.device)
    weights = torch.full_like(alphas, 1.0 / n_steps)
    weights[0] = weights[-1] = 0.5 / n_steps
    diff = x - baseline
    avg_grad = torch.zeros_like(x)
    per_chunk = max(1, _CHUNK_ELEMENTS // max(x.numel(), 1))
    for a, w in zip(alphas.split(per_chunk), weights.split(per_chunk), strict=True):
        points = (baseline.unsqueeze(0) + a.view(-1, 1, 1) * diff.unsqueeze(0)).reshape(
            -1, x.shape[1]
        )
        points.requires_grad_(True)
        with torch.enable_grad():
            logits = model(points)
            chosen = logits.gather(1, target.repeat(a.numel()).view(-1, 1)).sum()
            (grad,) = torch.autograd.grad(chosen, points)
        avg_grad += (w.view(-1, 1, 1) * grad.view(a.numel(), *x.shape)).sum(0)
    return diff * avg_grad


def standardise(g: torch.Tensor, absolute: bool) -> torch.Tensor:
    """method §5.5 standardisation of mean attributions ``g: (..., D)`` (min/max of signed g,
    deviations §11.4): ``|g_d|/(max−min)`` for 2-D synthetic data (``absolute``), else
    ``(g_d − min)/(max − min)``."""
    lo = g.min(dim=-1, keepdim=True).values
    hi = g.max(dim=-1, keepdim=True).values
    num = g.abs() if absolute else g - lo
    return num / (hi - lo)


@evaluating
def protected_sensitivity_rounds(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    protected: Sequence[int],
    absolute: bool,
    seed: int = 0,
    n_rounds: int = DEFAULT_ROUNDS,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    n_steps: int = DEFAULT_IG_STEPS,
) -> torch.Tensor:
    """Per bootstrap round, the mean standardised IG over the protected features → (n_rounds,).

    Each round averages IG over ``sample_size`` test points drawn with replacement. Every test
    point has one baseline draw, so IG is computed once per point and a round is a weighted
    mean (the reference's per-round vs per-point baseline draw is unknown, deviations §9.22). The
    baselines and bootstrap indices come from ``seed`` alone: two models evaluated with the
    same seed share them, as CT and BL share indices in the reference.
    """
    gen = torch.Generator().manual_seed(seed)
    baseline = random_baseline(x, gen)
    ig = integrated_gradients(model, x, y, baseline, n_steps).detach()
    idx = torch.randint(x.shape[0], (n_rounds, sample_size), generator=gen).to(x.device)
    counts = x.new_zeros(n_rounds, x.shape[0]).scatter_add_(1, idx, x.new_ones(idx.shape))
    g = counts @ ig / sample_size  # (n_rounds, D) round means
    return standardise(g, absolute)[:, list(protected)].mean(dim=1)
