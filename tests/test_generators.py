"""Generator penalties and REVISE's VAE (issue 2, method §2.2–2.4)."""

from __future__ import annotations

import pytest
import torch

from cftrain.constraints import Constraints
from cftrain.generators import REVISE, ECCo, Generic, energy_schedule
from cftrain.models import build
from cftrain.search import search
from cftrain.vae import fit_vae


@pytest.mark.parametrize(
    ("max_iter", "first", "last"),
    [(30, 0.0536, 0.0045), (50, 0.0744, 0.0057), (25, 0.0536, 0.0053)],
)
def test_energy_schedule_values(max_iter, first, last):
    phi = energy_schedule(torch.arange(1, max_iter + 1), max_iter)
    assert float(phi[0]) == pytest.approx(first, abs=5e-5)
    assert float(phi[-1]) == pytest.approx(last, abs=5e-5)
    assert bool((phi[1:] < phi[:-1]).all())


def test_energy_schedule_vanishes_for_short_searches():
    assert bool((energy_schedule(torch.arange(1, 6), 5) == 0).all())


def test_ecco_penalty_by_hand():
    x_f = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    x_cf = torch.tensor([[0.5, -0.25], [1.0, 1.0]])
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    target = torch.tensor([0, 1])
    t = torch.tensor([1, 30])
    gen = ECCo(lambda_cost=0.1, lambda_energy=5.0)
    got = gen.penalty(x_cf, x_f, logits, target, t, 30)
    phi1, phi30 = 0.1 * 2**-0.9, 0.1 * 31**-0.9
    want = torch.tensor(
        [
            0.1 * 0.75 + 5.0 * phi1 * (-2.0 + 1e-3 * 4.0),
            0.1 * 2.0 + 5.0 * phi30 * (-3.0 + 1e-3 * 9.0),
        ]
    )
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(
        Generic(lambda_cost=0.1).penalty(x_cf, x_f, logits, target, t, 30),
        torch.tensor([0.075, 0.2]),
    )


def test_generic_step_by_hand():
    """One step of Generic on a linear model equals the hand-computed gradient step."""
    model = build("linear", 2, 2, seed=0)
    w = model[0].weight.detach()
    b = model[0].bias.detach()
    x = torch.tensor([[0.3, -0.2]])
    target = torch.tensor([1])
    res = search(model, x, target, Generic(lambda_cost=0.5), tau=1.0, max_iter=1, step_size=0.1)
    p = (x @ w.T + b).softmax(1)[0]
    grad_ce = (p - torch.tensor([0.0, 1.0])) @ w  # d CE / dx
    expected = x[0] - 0.1 * grad_ce  # L1 gradient is 0 at x' = x
    torch.testing.assert_close(res.counterfactuals[0], expected)


def _two_blobs(n: int = 600) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5 + torch.stack([y * 3.0 - 1.5, y * 2.0 - 1.0], 1)
    return x, y


def test_vae_loss_falls_while_fitting():
    x, _ = _two_blobs()
    _, history = fit_vae(x, epochs=30, seed=1)
    assert history[-1] < 0.5 * history[0]
    assert sum(history[-5:]) / 5 < sum(history[:5]) / 5


def test_revise_returns_decoded_points_inside_domain():
    x, y = _two_blobs()
    vae, _ = fit_vae(x, epochs=30, seed=1)
    model = build("mlp", 2, 2, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    lower, upper = torch.tensor([-2.0, -1.5]), torch.tensor([2.0, 1.5])
    cons = Constraints(lower=lower, upper=upper)
    factuals = x[:100].clamp(lower, upper)
    target = 1 - model(factuals).argmax(1)
    rng = torch.Generator().manual_seed(3)
    res = search(
        model,
        factuals,
        target,
        REVISE(vae, lambda_cost=0.001),
        cons,
        tau=0.75,
        max_iter=50,
        rng=rng,
        keep_path=True,
    )
    assert bool((res.path >= lower).all()) and bool((res.path <= upper).all())
    assert float(res.converged.float().mean()) > 0.8
    # the counterfactuals come from the decoder: they lie near the data (blob) manifold
    near = torch.cdist(res.counterfactuals[res.converged], x).min(1).values
    assert float(near.median()) < 0.5


def test_energy_schedule_per_cell_column_equals_the_row_wide_values():
    """The batched search passes one step count per cell; φ must be bitwise the value a
    row-wide step count gives (the vectorised power, not the scalar tail's)."""
    max_iter = torch.tensor([[20], [50], [100], [12], [75]])
    for step in range(1, 102):
        rows = energy_schedule(torch.full((5, 64), step), max_iter)
        column = energy_schedule(torch.full((5, 1), step), max_iter)
        assert column.shape == (5, 1)
        assert torch.equal(column.expand(5, 64), rows), step
