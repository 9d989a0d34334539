"""IP*: unbiased MMD² with a Gaussian kernel between counterfactuals and target-class data.

method §5.2: each side is subsampled without replacement to at most ``n_max`` (= 100) rows and
``MMD² = mean_{i≠j} k(x′_i,x′_j) + mean_{i≠j} k(x⁺_i,x⁺_j) − 2·mean_{i,j} k(x′_i,x⁺_j)``
with ``k(a,b) = exp(−‖a−b‖²/(2ℓ²))``. Many groups are evaluated at once as padded batches.
"""

from __future__ import annotations

import torch

# the reference code's value; the paper text says 0.5 (deviations §9 item 3)
DEFAULT_LENGTH_SCALE = 5.0
DEFAULT_SUBSAMPLE = 100  # `ndiv` of the reference (method §5.2)
_CHUNK_ELEMENTS = 2**24  # bound on padded group tensors (groups × rows × features) per batch


def gaussian_kernel(
    a: torch.Tensor, b: torch.Tensor, length_scale: float = DEFAULT_LENGTH_SCALE
) -> torch.Tensor:
    """Kernel matrix of ``a: (..., N, D)`` against ``b: (..., M, D)`` → ``(..., N, M)``."""
    sq = torch.cdist(a, b).pow(2)
    return torch.exp(-sq / (2.0 * length_scale**2))


def mmd2_unbiased(
    x: torch.Tensor,
    y: torch.Tensor,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    x_mask: torch.Tensor | None = None,
    y_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Unbiased MMD² of ``x: (..., N, D)`` vs ``y: (..., M, D)`` → ``(...)``.

    Masks ``(..., N)`` / ``(..., M)`` mark real rows of padded batches. A side with fewer than
    two real rows has no unbiased estimate: the result is NaN there. Can be negative.
    """
    x_mask = _ones_mask(x) if x_mask is None else x_mask.to(x.dtype)
    y_mask = _ones_mask(y) if y_mask is None else y_mask.to(y.dtype)
    n, m = x_mask.sum(-1), y_mask.sum(-1)
    xx = _off_diagonal_sum(gaussian_kernel(x, x, length_scale), x_mask)
    yy = _off_diagonal_sum(gaussian_kernel(y, y, length_scale), y_mask)
    xy = (x_mask.unsqueeze(-1) * gaussian_kernel(x, y, length_scale) * y_mask.unsqueeze(-2)).sum(
        (-2, -1)
    )
    mmd = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2.0 * xy / (n * m)
    return torch.where((n >= 2) & (m >= 2), mmd, torch.full_like(mmd, float("nan")))


def mmd2_by_group(
    x_cf: torch.Tensor,
    group: torch.Tensor,
    group_target: torch.Tensor,
    x_ref: torch.Tensor,
    y_ref: torch.Tensor,
    generator: torch.Generator,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    n_max: int = DEFAULT_SUBSAMPLE,
) -> torch.Tensor:
    """MMD² of each group of counterfactuals against reference points of the group's target.

    x_cf: (N, D) counterfactuals; group: (N,) ids in ``0..G-1``; group_target: (G,) class of
    each group; x_ref: (M, D), y_ref: (M,) reference data (the test set, by true label).
    Both sides are subsampled without replacement to ``≤ n_max`` rows (method §5.2).
    Returns (G,); NaN for groups with fewer than two counterfactuals (deviations §11.2) or fewer
    than two reference points of their class.
    """
    n_groups = int(group_target.numel())
    cf_pad, cf_mask = _pad_groups(x_cf, group, n_groups, n_max, generator)
    ref_pad, ref_mask = _sample_reference(x_ref, y_ref, group_target, n_max, generator)
    out = torch.empty(n_groups, dtype=x_cf.dtype, device=x_cf.device)
    per_group = max(n_max * x_cf.shape[1], 1)
    step = max(1, _CHUNK_ELEMENTS // per_group)
    for lo in range(0, n_groups, step):
        sl = slice(lo, lo + step)
        out[sl] = mmd2_unbiased(cf_pad[sl], ref_pad[sl], length_scale, cf_mask[sl], ref_mask[sl])
    return out


def _ones_mask(x: torch.Tensor) -> torch.Tensor:
    return torch.ones(x.shape[:-1], dtype=x.dtype, device=x.device)


def _off_diagonal_sum(k: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Σ_{i≠j} mask_i mask_j k_ij for ``k: (..., N, N)`` (the diagonal is removed exactly)."""
    full = (mask.unsqueeze(-1) * k * mask.unsqueeze(-2)).sum((-2, -1))
    return full - (mask * k.diagonal(dim1=-2, dim2=-1)).sum(-1)


def _pad_groups(
    x: torch.Tensor, group: torch.Tensor, n_groups: int, n_max: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random ≤ n_max rows per group, as padded ``(G, n_max, D)`` plus mask ``(G, n_max)``."""
    key = torch.rand(group.numel(), generator=generator).to(x.device)
    perm = torch.argsort(key)
    perm = perm[torch.argsort(group[perm], stable=True)]  # by group, random within a group
    sorted_group = group[perm]
    counts = torch.bincount(sorted_group, minlength=n_groups)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(perm.numel(), device=x.device) - starts[sorted_group]
    keep = rank < n_max
    pad = x.new_zeros(n_groups, n_max, x.shape[1])
    mask = torch.zeros(n_groups, n_max, dtype=torch.bool, device=x.device)
    pad[sorted_group[keep], rank[keep]] = x[perm[keep]]
    mask[sorted_group[keep], rank[keep]] = True
    return pad, mask


def _sample_reference(
    x_ref: torch.Tensor,
    y_ref: torch.Tensor,
    group_target: torch.Tensor,
    n_max: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per group, ≤ n_max reference rows of its target class without replacement (padded)."""
    n_groups = int(group_target.numel())
    pad = x_ref.new_zeros(n_groups, n_max, x_ref.shape[1])
    mask = torch.zeros(n_groups, n_max, dtype=torch.bool, device=x_ref.device)
    for c in torch.unique(group_target).tolist():
        gids = (group_target == c).nonzero().flatten()
        pool = (y_ref == c).nonzero().flatten()
        k = min(n_max, int(pool.numel()))
        if k == 0:
            continue
        keys = torch.rand(gids.numel(), pool.numel(), generator=generator).to(x_ref.device)
        picks = pool[torch.topk(keys, k, dim=1, largest=False).indices]  # (G_c, k)
        pad[gids, :k] = x_ref[picks]
        mask[gids, :k] = True
    return pad, mask
