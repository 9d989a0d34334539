"""Class-conditional draws shared by training and evaluation."""

from __future__ import annotations

import torch


def draw_by_class(
    labels: torch.Tensor, wanted: torch.Tensor, rng: torch.Generator | None
) -> torch.Tensor:
    """For each entry of ``wanted``, a uniform index of a point whose label it is.

    labels: ``(M,)``, M ≥ 1, class of each candidate point (true or predicted);
    wanted: ``(N,)``. Returns ``(N,)`` indices into the candidates, drawn independently
    (with replacement across rows), and −1 where no candidate has the wanted label.
    One float draw per row, so ``rng`` advances by the same amount whatever the labels.
    """
    wanted = wanted.to(labels.device)
    counts = torch.bincount(labels, minlength=int(wanted.max()) + 1)
    starts = torch.cumsum(counts, 0) - counts
    by_class = torch.argsort(labels, stable=True)
    device = labels.device if rng is None else rng.device
    u = torch.rand(wanted.shape, generator=rng, device=device, dtype=torch.float64)
    available = counts[wanted]
    pick = torch.minimum((u.to(labels.device) * available).long(), (available - 1).clamp(min=0))
    idx = by_class[(starts[wanted] + pick).clamp(max=labels.numel() - 1)]
    return torch.where(available > 0, idx, torch.full_like(idx, -1))
