"""The per-epoch counterfactual sweep of CT (issue 4, method §1.2(a))."""

from __future__ import annotations

import pytest
import torch

from cftrain import objectives
from cftrain.constraints import Constraints
from cftrain.generators import ECCo, Omniscient
from cftrain.models import build
from cftrain.sweep import (
    draw_neighbours,
    draw_targets,
    group_sizes,
    protect_immutable,
    run_sweep,
    sample_factuals,
)

FOUR_KINDS = Constraints(mutability=("both", "none", "increase", "decrease"))


def test_protect_immutable_counterfactual_above_neighbour():
    s = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    c = torch.tensor([[5.0, 5.0, 5.0, 5.0]])
    # both → s; none → c; increase → max(c, s) = c; decrease → min(c, s) = s
    expected = torch.tensor([[1.0, 5.0, 5.0, 1.0]])
    assert torch.equal(protect_immutable(s, c, FOUR_KINDS), expected)


def test_protect_immutable_counterfactual_below_neighbour():
    s = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, -1.0, 7.0]])
    c = torch.tensor([[-3.0, -3.0, -3.0, -3.0], [9.0, -2.0, 4.0, 8.0]])
    # row 1: both → 1; none → −3; increase → max(−3, 1) = 1; decrease → min(−3, 1) = −3
    # row 2: both → 0; none → −2; increase → max(4, −1) = 4; decrease → min(8, 7) = 7
    expected = torch.tensor([[1.0, -3.0, 1.0, -3.0], [0.0, -2.0, 4.0, 7.0]])
    out = protect_immutable(s, c, FOUR_KINDS)
    assert torch.equal(out, expected)
    assert torch.equal(s, torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, -1.0, 7.0]]))


def test_protect_immutable_without_mutability_is_identity():
    s, c = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(protect_immutable(s, c, None), s)
    bounds_only = Constraints(lower=-torch.ones(4), upper=torch.ones(4))
    assert torch.equal(protect_immutable(s, c, bounds_only), s)


def test_group_sizes_first_remainder_groups_get_one_extra():
    assert group_sizes(10, 3) == [4, 3, 3]
    assert group_sizes(1000, 100) == [10] * 100
    sizes = group_sizes(5000, 26)  # Adult: 5000 = 26·192 + 8
    assert sizes == [193] * 8 + [192] * 18
    assert group_sizes(7, 7) == [1] * 7


def test_sample_factuals_without_replacement():
    rng = torch.Generator().manual_seed(0)
    idx = sample_factuals(50, 50, rng)
    assert sorted(idx.tolist()) == list(range(50))
    assert len(set(sample_factuals(1000, 300, rng).tolist())) == 300
    with pytest.raises(ValueError, match="without replacement"):
        sample_factuals(10, 11, rng)


def test_targets_uniform_over_the_other_classes():
    rng = torch.Generator().manual_seed(1)
    predicted = torch.tensor([0, 1, 2, 3]).repeat(3000)
    target = draw_targets(predicted, 4, rng)
    assert not bool((target == predicted).any())
    for p in range(4):
        counts = torch.bincount(target[predicted == p], minlength=4).float() / 3000
        others = [c for c in range(4) if c != p]
        # 3000 draws per class: standard error of a share of 1/3 is 0.0086
        assert torch.allclose(counts[others], torch.full((3,), 1 / 3), atol=0.035)
    binary = draw_targets(torch.tensor([0, 1, 1, 0]), 2, rng)
    assert binary.tolist() == [1, 0, 0, 1]


def test_neighbours_have_the_target_as_true_label_and_are_uniform():
    rng = torch.Generator().manual_seed(2)
    labels = torch.tensor([2, 0, 1, 0, 2, 2, 1, 0, 0, 2])
    target = torch.tensor([0, 1, 2]).repeat(4000)
    idx = draw_neighbours(labels, target, rng)
    assert torch.equal(labels[idx], target)
    for c in range(3):
        members = (labels == c).nonzero().flatten()
        share = torch.bincount(idx[target == c], minlength=10)[members].float() / 4000
        assert torch.allclose(share, torch.full_like(share, 1 / len(members)), atol=0.03)
    with pytest.raises(ValueError, match="no training point"):
        draw_neighbours(torch.tensor([0, 0]), torch.tensor([1]), rng)


def _blobs(n: int = 300, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 3, generator=g) + torch.stack([2 * y, -y, y], 1).float()
    return x, y


def _row_of(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """For each row of ``a``, the index of an identical row of ``b`` (−1 if none)."""
    same = (a[:, None, :] == b[None, :, :]).all(-1)
    return torch.where(same.any(1), same.float().argmax(1), -1)


def _sweep(model, x, y, constraints, *, generator=None, seed=0):
    # large steps so that some searches of an untrained model mature within 10 steps
    return run_sweep(
        model,
        x,
        y,
        2,
        120,
        generator or ECCo(),
        constraints,
        torch.Generator().manual_seed(seed),
        tau=0.7,
        max_iter=10,
        step_size=1.0,
        ae_epsilon=0.3,
    )


def test_sweep_tuples_follow_spec():
    x, y = _blobs()
    model = build("mlp", 3, 2, seed=0)
    sweep = _sweep(model, x, y, None)
    assert len(set(sweep.index.tolist())) == 120
    assert torch.equal(sweep.label, y[sweep.index])  # the nascent example's label: true label
    with torch.no_grad():
        predicted = model(x[sweep.index]).argmax(1)
    assert torch.equal(sweep.target, 1 - predicted)
    # without protection x⁺ is a training point whose true label is the target
    rows = _row_of(sweep.neighbour, x)
    assert bool((rows >= 0).all())
    assert torch.equal(y[rows], sweep.target)
    # the nascent example lies in the L∞ ball of radius 0.3 around its factual
    assert bool(((sweep.adversarial - x[sweep.index]).abs().amax(1) <= 0.3 + 1e-6).all())
    # mature pairs keep the search's final state, which has reached τ
    mature = sweep.converged
    assert 0 < int(mature.sum()) < 120, "settings should give mixed maturity"
    with torch.no_grad():
        p = model(sweep.counterfactual[mature]).softmax(1)
    assert bool((p.gather(1, sweep.target[mature, None]) >= 0.7).all())


def test_immature_pairs_are_the_neighbour_and_contribute_zero_divergence():
    x, y = _blobs(seed=3)
    model = build("mlp", 3, 2, seed=1)
    cons = Constraints(mutability=("none", "increase", "both"))
    sweep = _sweep(model, x, y, cons, seed=4)
    immature = ~sweep.converged
    assert 0 < int(immature.sum()) < 120
    assert torch.equal(sweep.counterfactual[immature], sweep.neighbour[immature])
    with torch.no_grad():
        pos, cf = model(sweep.neighbour), model(sweep.counterfactual)
    t = sweep.target
    for j in immature.nonzero().flatten().tolist():
        assert objectives.div(pos[j : j + 1], cf[j : j + 1], t[j : j + 1]).item() == 0.0
    mature = sweep.converged
    per_pair = objectives.energy(pos, t) - objectives.energy(cf, t)
    assert bool((per_pair[mature] != 0).all())


def test_protection_in_the_sweep_ties_the_immutable_feature_to_the_factual():
    x, y = _blobs(seed=5)
    model = build("mlp", 3, 2, seed=0)
    cons = Constraints(mutability=("none", "both", "both"))
    sweep = _sweep(model, x, y, cons, seed=6)
    mature = sweep.converged
    assert int(mature.sum()) > 10
    factual = x[sweep.index]
    # the search cannot move feature 0, and protection copies it into x⁺
    assert torch.equal(sweep.counterfactual[mature, 0], factual[mature, 0])
    assert torch.equal(sweep.neighbour[mature, 0], factual[mature, 0])
    # the mutable features of x⁺ are still a real target-class training point's
    rows = _row_of(sweep.neighbour[:, 1:], x[:, 1:])
    assert bool((rows >= 0).all())
    assert torch.equal(y[rows], sweep.target)


def test_omniscient_without_target_prediction_is_an_immature_pair():
    x, y = _blobs(seed=7)
    model = build("linear", 3, 2, seed=0)
    with torch.no_grad():  # predicts class 0 everywhere: no pool point is predicted as 1
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([1.0, -1.0]))
    sweep = _sweep(model, x, y, None, generator=Omniscient(pool=x))
    assert bool((sweep.target == 1).all())
    assert not bool(sweep.converged.any())
    assert torch.equal(sweep.counterfactual, sweep.neighbour)
    assert torch.equal(sweep.adversarial, x[sweep.index])


def test_sweep_is_reproducible_from_the_generator_state():
    x, y = _blobs()
    model = build("mlp", 3, 2, seed=0)
    a, b = _sweep(model, x, y, None, seed=9), _sweep(model, x, y, None, seed=9)
    for name in ("counterfactual", "neighbour", "adversarial", "target", "index"):
        assert torch.equal(getattr(a, name), getattr(b, name))
