"""The batched search behaves as N independent per-factual searches (issue 2, method §2.1, §10)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cftrain.constraints import MUTABILITY_KINDS, Constraints
from cftrain.generators import ECCo, Generator, Generic, Omniscient
from cftrain.models import build
from cftrain.search import search


def _setup(seed: int, n: int = 40, d: int = 6, k: int = 3, dtype=torch.float32):
    """A random MLP with weights scaled ×3, so that high target probabilities are reachable."""
    g = torch.Generator().manual_seed(seed)
    model = build("mlp", d, k, seed=seed).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    x = torch.rand(n, d, generator=g, dtype=dtype) * 4 - 2
    target = torch.randint(0, k, (n,), generator=g)
    return model, x, target


def _constraints(d: int) -> Constraints:
    mut = tuple(MUTABILITY_KINDS[i % 4] for i in range(d))
    return Constraints(lower=-2.5 * torch.ones(d), upper=2.5 * torch.ones(d), mutability=mut)


@pytest.mark.parametrize("generator", [Generic(lambda_cost=0.1), ECCo(lambda_cost=0.01)])
def test_batched_equals_alone(generator):
    model, x, target = _setup(0)
    cons = _constraints(x.shape[1])
    kwargs = dict(tau=0.9, max_iter=30, step_size=0.5, ae_epsilon=0.3)
    batched = search(model, x, target, generator, cons, **kwargs)
    # mixed outcomes: some rows converge at different steps, some never, some at once
    assert 0 < int(batched.converged.sum()) < len(x)
    assert len(set(batched.iterations.tolist())) > 3
    for i in range(len(x)):
        alone = search(model, x[i : i + 1], target[i : i + 1], generator, cons, **kwargs)
        torch.testing.assert_close(
            alone.counterfactuals[0], batched.counterfactuals[i], atol=1e-6, rtol=0
        )
        torch.testing.assert_close(alone.nascent[0], batched.nascent[i], atol=1e-6, rtol=0)
        assert alone.iterations[0] == batched.iterations[i]
        assert alone.converged[0] == batched.converged[i]


def test_search_does_not_modify_inputs_or_leak_graphs():
    model, x, target = _setup(1)
    before = x.clone()
    res = search(model, x, target, Generic(), _constraints(x.shape[1]), max_iter=5)
    assert torch.equal(x, before)
    # outputs are plain constants: no autograd history leaks into a training step
    for out in (res.counterfactuals, res.nascent):
        assert not out.requires_grad and out.grad_fn is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    kinds=st.lists(st.sampled_from(MUTABILITY_KINDS), min_size=5, max_size=5),
    half_width=st.floats(0.5, 3.0),
    step_size=st.sampled_from([0.1, 1.0, 5.0]),
    use_ecco=st.booleans(),
)
def test_constraints_hold_at_every_step(seed, kinds, half_width, step_size, use_ecco):
    model, x, target = _setup(seed, n=20, d=5)
    x = x.clamp(-half_width, half_width)
    lower = torch.full((5,), -half_width)
    upper = torch.full((5,), half_width)
    cons = Constraints(lower=lower, upper=upper, mutability=tuple(kinds))
    generator = ECCo() if use_ecco else Generic()
    res = search(
        model,
        x,
        target,
        generator,
        cons,
        tau=0.99,
        max_iter=15,
        step_size=step_size,
        keep_path=True,
    )
    path = res.path
    steps = path[1:] - path[:-1]
    for d, kind in enumerate(kinds):
        if kind == "none":
            assert torch.equal(path[:, :, d], x[:, d].expand_as(path[:, :, d]))
        if kind == "increase":
            assert bool((steps[:, :, d] >= 0).all())
        if kind == "decrease":
            assert bool((steps[:, :, d] <= 0).all())
    assert bool((path >= lower).all()) and bool((path <= upper).all())


def test_converged_rows_freeze_and_meet_threshold():
    model, x, target = _setup(2, n=60)
    tau = 0.8
    res = search(model, x, target, ECCo(), tau=tau, max_iter=40, step_size=0.5, keep_path=True)
    probs = model(res.counterfactuals).softmax(1).gather(1, target[:, None]).squeeze(1)
    assert bool((probs[res.converged] >= tau).all())
    assert bool((probs[~res.converged] < tau).all())
    for i, k in enumerate(res.iterations.tolist()):
        # after its last step k the row never moves again, and it moved at each step before
        assert torch.equal(res.path[k:, i], res.path[k, i].expand_as(res.path[k:, i]))
        assert bool(((res.path[1 : k + 1, i] - res.path[:k, i]).abs().sum(1) > 0).all())
        if res.converged[i]:
            # it stopped at the first step that met the threshold
            earlier = model(res.path[:k, i]).softmax(1)[:, target[i]]
            assert bool((earlier < tau).all())
    assert bool((res.iterations[~res.converged] == 40).all())


def test_nascent_is_last_path_state_in_ball():
    model, x, target = _setup(3, n=50)
    eps = 0.2
    res = search(
        model,
        x,
        target,
        Generic(),
        tau=0.95,
        max_iter=25,
        step_size=0.3,
        ae_epsilon=eps,
        keep_path=True,
    )
    dist = (res.path - x.unsqueeze(0)).abs().amax(dim=2)  # (S+1, N)
    outside_some = 0
    for i in range(len(x)):
        inside = (dist[: res.iterations[i] + 1, i] <= eps).nonzero().flatten()
        last = int(inside.max())
        assert torch.equal(res.nascent[i], res.path[last, i])
        outside_some += int(last < res.iterations[i])
    assert outside_some > 0  # some paths did leave the ball


def test_factual_already_valid_returns_at_once():
    model, x, _target = _setup(4, n=30)
    predicted = model(x).argmax(1)
    res = search(model, x, predicted, ECCo(), tau=1e-6, keep_path=True)
    assert bool(res.converged.all())
    assert bool((res.iterations == 0).all())
    assert torch.equal(res.counterfactuals, x) and torch.equal(res.nascent, x)


def test_nonfinite_steps_are_zeroed_and_counted():
    class InfInFirstFeature(Generator):
        def penalty(self, x_cf, x_factual, logits, target, t, max_iter):
            return x_cf[:, 0].abs().sqrt() * 0  # d/dx sqrt|x| at 0 → inf·0 = nan

    model, x, target = _setup(5, n=10, d=4)
    x[:, 0] = 0.0
    res = search(model, x, target, InfInFirstFeature(), tau=1.0, max_iter=3)
    assert res.n_nonfinite == 10 * 3
    assert bool((res.counterfactuals[:, 0] == 0).all())
    assert bool((res.counterfactuals[:, 1:] != x[:, 1:]).any())


def test_omniscient_returns_points_predicted_as_target():
    model, x, target = _setup(6, n=200)
    pool = torch.randn(500, x.shape[1], generator=torch.Generator().manual_seed(1)) * 2
    predicted = model(pool).argmax(1)
    res = search(model, x, target, Omniscient(pool), rng=torch.Generator().manual_seed(0))
    rows = (res.counterfactuals.unsqueeze(1) == pool.unsqueeze(0)).all(2)  # (N, M)
    assert bool((rows.sum(1) >= 1).all())  # every output is a pool point
    has_target = torch.isin(target, predicted)
    assert torch.equal(res.converged, has_target)
    picked_pred = model(res.counterfactuals).argmax(1)
    assert torch.equal(picked_pred[res.converged], target[res.converged])
    assert torch.equal(res.nascent, x) and bool((res.iterations == 0).all())
