"""Per-counterfactual measures and predictive performance (issue 5, method §5.2, §5.4)."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import f1_score as sk_f1

from cftrain.constraints import Constraints
from cftrain.evaluation import (
    accuracy,
    constraint_violations,
    cost,
    draw_target_neighbours,
    f1_macro,
    f1_score,
    implausibility,
    redundancy,
    validity,
)
from cftrain.models import build


def _reference(seed: int, m: int = 60, d: int = 3, k: int = 3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(m, d, generator=g), torch.randint(0, k, (m,), generator=g)


def test_cost_and_redundancy_by_hand():
    x = torch.tensor([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    x_cf = torch.tensor([[0.5, 1.0, 1.0, 3.0 + 1e-7], [1.0, 1.0, 1.0, 1.0]])
    assert torch.allclose(cost(x, x_cf), torch.tensor([1.5 + 1e-7, 0.0]))
    assert torch.equal(redundancy(x, x_cf), torch.tensor([0.5, 1.0]))  # 1e-7 counts as unchanged


def test_validity_is_argmax_equal_to_target():
    model = build("linear", 2, 3, seed=0)
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(3, 2))  # logits (x0, x1, 0)
        model[0].bias.zero_()
    x_cf = torch.tensor([[2.0, 1.0], [1.0, 2.0], [-1.0, -2.0]])  # predicted 0, 1, 2
    assert validity(model, x_cf, torch.tensor([0, 0, 2])).tolist() == [True, False, True]


def test_neighbours_are_drawn_from_the_target_class_by_true_label():
    _, y_ref = _reference(0)
    target = torch.tensor([0, 1, 2, 1, 0])
    idx = draw_target_neighbours(target, y_ref, torch.Generator().manual_seed(1), n_samples=500)
    assert idx.shape == (5, 500)
    assert torch.equal(y_ref[idx], target.unsqueeze(1).expand(-1, 500))
    # with replacement: a class has ~20 points, so 500 draws must repeat indices
    assert all(row.unique().numel() < 500 for row in idx)


def test_implausibility_matches_brute_force_over_the_same_draws():
    x_ref, y_ref = _reference(2)
    g = torch.Generator().manual_seed(3)
    x_cf = torch.randn(40, 3, generator=g)
    target = torch.randint(0, 3, (40,), generator=g)
    idx = draw_target_neighbours(target, y_ref, torch.Generator().manual_seed(9), n_samples=1000)
    brute = torch.stack(
        [
            torch.stack([(x_cf[i] - x_ref[j]).abs().sum() for j in idx[i].tolist()]).mean()
            for i in range(40)
        ]
    )
    ip = implausibility(x_cf, target, x_ref, y_ref, torch.Generator().manual_seed(9))
    assert torch.allclose(ip, brute, rtol=1e-5)


def test_implausibility_approaches_the_mean_distance_to_the_whole_class():
    x_ref, y_ref = _reference(4)
    x_cf = torch.zeros(1, 3)
    exact = (x_cf - x_ref[y_ref == 1]).abs().sum(1).mean()
    ip = implausibility(
        x_cf, torch.tensor([1]), x_ref, y_ref, torch.Generator().manual_seed(0), n_samples=200_000
    )
    assert ip.item() == pytest.approx(exact.item(), rel=0.01)


def test_implausibility_raises_for_a_target_absent_from_the_reference():
    x_ref, y_ref = _reference(5, k=2)
    with pytest.raises(ValueError, match="label 2"):
        implausibility(torch.zeros(1, 3), torch.tensor([2]), x_ref, y_ref, torch.Generator())


def test_constraint_violations_flag_each_kind():
    c = Constraints(
        lower=torch.tensor([-1.0, -1.0, -1.0, -1.0]),
        upper=torch.tensor([1.0, 1.0, 1.0, 1.0]),
        mutability=("none", "increase", "decrease", "both"),
    )
    x = torch.zeros(5, 4)
    x_cf = torch.tensor(
        [
            [0.0, 0.5, -0.5, 0.9],  # all fine
            [0.1, 0.0, 0.0, 0.0],  # immutable moved
            [0.0, -0.2, 0.0, 0.0],  # increase-only went down
            [0.0, 0.0, 0.3, 0.0],  # decrease-only went up
            [0.0, 0.0, 0.0, 1.5],  # left the domain
        ]
    )
    flags = constraint_violations(x, x_cf, c)
    assert flags["immutable_moved"].tolist() == [False, True, False, False, False]
    assert flags["direction_violated"].tolist() == [False, False, True, True, False]
    assert flags["domain_left"].tolist() == [False, False, False, False, True]
    unconstrained = constraint_violations(x, x_cf, None)
    assert not any(bool(v.any()) for v in unconstrained.values())


def test_accuracy_and_macro_f1_match_sklearn():
    g = torch.Generator().manual_seed(0)
    model = build("mlp", 4, 3, seed=1)
    x = torch.randn(500, 4, generator=g)
    y = torch.randint(0, 3, (500,), generator=g)
    pred = model(x).argmax(1)
    assert accuracy(model, x, y) == pytest.approx((pred == y).double().mean().item())
    expected = sk_f1(y.numpy(), pred.numpy(), average="macro", labels=[0, 1, 2], zero_division=0)
    assert f1_score(model, x, y, 3) == pytest.approx(expected)


def test_macro_f1_by_hand_with_an_empty_class():
    # classes 0 and 1: TP=1, FP=1, FN=1 → F1 0.5 each; class 2 never occurs → 0
    y_true = torch.tensor([0, 0, 1, 1])
    y_pred = torch.tensor([0, 1, 1, 0])
    assert f1_macro(y_true, y_pred, 3) == pytest.approx((0.5 + 0.5 + 0.0) / 3)
