"""Integrated gradients, standardisation and the per-round IG statistic (issue 5, method §5.5)."""

from __future__ import annotations

import pytest
import torch

from cftrain.evaluation import (
    integrated_gradients,
    protected_sensitivity_rounds,
    random_baseline,
    standardise,
)
from cftrain.models import build


def _mlp_and_data(seed: int = 0, n: int = 50, d: int = 4, k: int = 3):
    g = torch.Generator().manual_seed(seed)
    model = build("mlp", d, k, seed=seed).double()
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, k, (n,), generator=g)
    return model, x, y


def test_completeness_within_one_percent():
    model, x, y = _mlp_and_data()
    baseline = random_baseline(x, torch.Generator().manual_seed(1))
    ig = integrated_gradients(model, x, y, baseline, n_steps=1000)
    with torch.no_grad():
        gap = (
            model(x).gather(1, y[:, None]).squeeze(1) - model(baseline).gather(1, y[:, None])[:, 0]
        )
    err = (ig.sum(1) - gap).abs()
    # relative to Σ|IG| so rows with f(x) ≈ f(baseline) do not blow up (deviations §11.5)
    assert (err <= 0.01 * ig.abs().sum(1)).all()
    assert (err <= 0.01 * gap.abs() + 1e-3).all()


def test_linear_model_ig_is_exact_for_any_step_count():
    model = build("linear", 3, 2, seed=3).double()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(10, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (10,), generator=g)
    baseline = random_baseline(x, g)
    w = model[0].weight.detach()
    for steps in (1, 7, 50):
        ig = integrated_gradients(model, x, y, baseline, n_steps=steps)
        assert torch.allclose(ig, (x - baseline) * w[y])


def test_trapezoid_rule_on_a_quadratic_path():
    """f(x) = logit = x₀² along the path from 0: ∂f/∂x₀ = 2αx₀, trapezoid with n intervals
    integrates the linear integrand exactly, so IG₀ = x₀² for any n."""

    class Square(torch.nn.Module):
        def forward(self, x):
            return torch.stack([x[:, 0] ** 2, torch.zeros_like(x[:, 0])], dim=1)

    x = torch.tensor([[3.0, 1.0]], dtype=torch.float64)
    ig = integrated_gradients(Square(), x, torch.tensor([0]), torch.zeros_like(x), n_steps=2)
    assert torch.allclose(ig, torch.tensor([[9.0, 0.0]], dtype=torch.float64))


def test_random_baseline_is_uniform_in_minus_one_one():
    b = random_baseline(torch.empty(20000, 2), torch.Generator().manual_seed(0))
    assert b.min() >= -1 and b.max() <= 1
    assert b.mean().item() == pytest.approx(0.0, abs=0.02)
    assert b.var().item() == pytest.approx(1 / 3, abs=0.02)


def test_standardise_by_hand():
    g = torch.tensor([-1.0, 3.0, 1.0])  # min −1, max 3, range 4
    assert torch.allclose(standardise(g, absolute=False), torch.tensor([0.0, 1.0, 0.5]))
    assert torch.allclose(standardise(g, absolute=True), torch.tensor([0.25, 0.75, 0.25]))


def test_rounds_are_standardised_bootstrap_means_of_per_point_ig():
    model, x, y = _mlp_and_data(4, n=30)
    stat = protected_sensitivity_rounds(
        model, x, y, [0, 2], absolute=False, seed=5, n_rounds=6, sample_size=40, n_steps=20
    )
    # the documented stream: one baseline per point, then the bootstrap indices
    gen = torch.Generator().manual_seed(5)
    ig = integrated_gradients(model, x, y, random_baseline(x, gen), n_steps=20)
    idx = torch.randint(30, (6, 40), generator=gen)
    expected = torch.stack(
        [standardise(ig[idx[r]].mean(0), absolute=False)[[0, 2]].mean() for r in range(6)]
    )
    assert torch.allclose(stat, expected)
    assert stat.shape == (6,)
    assert len(set(stat.tolist())) > 1  # rounds differ


def test_rounds_are_reproducible_and_seed_dependent():
    model, x, y = _mlp_and_data(6, n=30)
    kwargs = dict(absolute=True, n_rounds=4, sample_size=30, n_steps=10)
    a = protected_sensitivity_rounds(model, x, y, [1], seed=0, **kwargs)
    b = protected_sensitivity_rounds(model, x, y, [1], seed=0, **kwargs)
    c = protected_sensitivity_rounds(model, x, y, [1], seed=1, **kwargs)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
