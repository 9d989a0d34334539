"""Class-conditional draws (used for neighbours, Omniscient and evaluation factuals)."""

from __future__ import annotations

import torch

from cftrain.sampling import draw_by_class


def test_draws_only_wanted_class_uniformly_and_marks_missing():
    labels = torch.tensor([2, 0, 2, 1, 2, 0])
    wanted = torch.tensor([2, 0, 3, 1] * 3000)
    idx = draw_by_class(labels, wanted, torch.Generator().manual_seed(0))
    assert bool((idx[wanted == 3] == -1).all())
    found = idx >= 0
    assert torch.equal(labels[idx[found]], wanted[found])
    # class 2 lives at rows 0, 2, 4: each drawn about a third of the time
    freq = torch.bincount(idx[wanted == 2], minlength=6)[[0, 2, 4]] / 3000
    assert bool(((freq - 1 / 3).abs() < 0.03).all())


def test_same_seed_same_draws_and_fixed_stream_advance():
    labels = torch.tensor([0, 1, 1, 0, 1])
    a = draw_by_class(labels, torch.tensor([1, 0, 1]), torch.Generator().manual_seed(5))
    b = draw_by_class(labels, torch.tensor([1, 0, 1]), torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    draw_by_class(labels, torch.tensor([0, 0, 0]), g1)
    draw_by_class(labels, torch.tensor([1, 7, 1]), g2)
    assert torch.equal(g1.get_state(), g2.get_state())
