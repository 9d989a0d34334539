"""IP*: unbiased MMD² with a Gaussian kernel (issue 5, method §5.2, deviations §11.2)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from cftrain.evaluation import gaussian_kernel, mmd2_by_group, mmd2_unbiased


def _brute_mmd2(x: torch.Tensor, y: torch.Tensor, ell: float) -> float:
    """The method §5.2 formula term by term, in float64."""

    def k(a, b):
        return math.exp(-float(((a - b) ** 2).sum()) / (2 * ell**2))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


def test_kernel_by_hand():
    a = torch.tensor([[0.0, 0.0]])
    b = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert torch.allclose(gaussian_kernel(a, b, 5.0), torch.tensor([[math.exp(-0.5), 1.0]]))


@pytest.mark.parametrize("ell", [0.5, 5.0])
def test_mmd2_matches_brute_force(ell):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    y = torch.randn(11, 3, generator=g, dtype=torch.float64) + 0.5
    assert mmd2_unbiased(x, y, ell).item() == pytest.approx(_brute_mmd2(x, y, ell), rel=1e-10)


def test_masked_batch_equals_each_unpadded_pair():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 6, 2, generator=g, dtype=torch.float64)
    y = torch.randn(3, 5, 2, generator=g, dtype=torch.float64)
    x_mask = torch.tensor([[1] * 6, [1] * 3 + [0] * 3, [1, 0, 1, 0, 1, 1]], dtype=torch.bool)
    y_mask = torch.tensor([[1] * 5, [1] * 2 + [0] * 3, [0, 1, 1, 1, 0]], dtype=torch.bool)
    batched = mmd2_unbiased(x, y, 1.0, x_mask, y_mask)
    for b in range(3):
        expected = _brute_mmd2(x[b][x_mask[b]], y[b][y_mask[b]], 1.0)
        assert batched[b].item() == pytest.approx(expected, rel=1e-10)


def test_mmd2_is_nan_without_two_points_per_side():
    one, two = torch.zeros(1, 2), torch.ones(2, 2)
    assert math.isnan(mmd2_unbiased(one, two).item())
    assert math.isnan(mmd2_unbiased(two, one).item())


def test_unbiased_around_zero_for_one_distribution_positive_for_a_shift():
    g = torch.Generator().manual_seed(2)
    same = torch.stack(
        [
            mmd2_unbiased(torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g), 1.0)
            for _ in range(400)
        ]
    )
    shifted = torch.stack(
        [
            mmd2_unbiased(
                torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g) + 1.5, 1.0
            )
            for _ in range(50)
        ]
    )
    # the unbiased estimator is negative about half the time under the null
    assert (same < 0).float().mean().item() > 0.2
    assert abs(same.mean().item()) < 3 * same.std().item() / math.sqrt(400)
    assert shifted.min().item() > 0
    assert shifted.mean().item() > 10 * same.std().item()


def test_grouped_mmd_equals_brute_force_when_nothing_is_subsampled():
    g = torch.Generator().manual_seed(3)
    x_ref = torch.randn(12, 2, generator=g, dtype=torch.float64)
    y_ref = torch.tensor([0, 1] * 6)
    x_cf = torch.randn(9, 2, generator=g, dtype=torch.float64)
    group = torch.tensor([0, 0, 1, 1, 1, 3, 2, 0, 2])
    group_target = torch.tensor([1, 0, 1, 0])
    out = mmd2_by_group(
        x_cf, group, group_target, x_ref, y_ref, torch.Generator().manual_seed(0), 5.0, n_max=100
    )
    for gid in range(3):
        expected = _brute_mmd2(x_cf[group == gid], x_ref[y_ref == group_target[gid]], 5.0)
        assert out[gid].item() == pytest.approx(expected, rel=1e-10)
    assert math.isnan(out[3].item())  # one counterfactual: no value (deviations §11.2)


def test_grouped_mmd_subsamples_both_sides_without_replacement():
    """Three counterfactuals and three reference points, n_max = 2: every result must be the MMD
    of one pair of counterfactuals against one pair of reference points, and across seeds all
    nine combinations occur."""
    g = torch.Generator().manual_seed(4)
    x_cf = torch.randn(3, 2, generator=g, dtype=torch.float64)
    x_ref = torch.randn(3, 2, generator=g, dtype=torch.float64)
    pairs = list(itertools.combinations(range(3), 2))
    candidates = {
        (a, b): _brute_mmd2(x_cf[list(a)], x_ref[list(b)], 1.0)
        for a, b in itertools.product(pairs, pairs)
    }
    seen = set()
    for seed in range(200):
        value = mmd2_by_group(
            x_cf,
            torch.zeros(3, dtype=torch.long),
            torch.tensor([0]),
            x_ref,
            torch.zeros(3, dtype=torch.long),
            torch.Generator().manual_seed(seed),
            1.0,
            n_max=2,
        ).item()
        match = [key for key, v in candidates.items() if v == pytest.approx(value, rel=1e-9)]
        assert len(match) == 1
        seen.add(match[0])
    assert len(seen) == 9


def test_grouped_mmd_is_reproducible_from_its_generator():
    g = torch.Generator().manual_seed(5)
    x_cf, x_ref = torch.randn(300, 2, generator=g), torch.randn(400, 2, generator=g)
    group, y_ref = (
        torch.randint(0, 4, (300,), generator=g),
        torch.randint(0, 2, (400,), generator=g),
    )
    args = (x_cf, group, torch.tensor([0, 1, 0, 1]), x_ref, y_ref)
    a = mmd2_by_group(*args, torch.Generator().manual_seed(7))
    b = mmd2_by_group(*args, torch.Generator().manual_seed(7))
    c = mmd2_by_group(*args, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)  # ~200 reference points per class are subsampled to 100
