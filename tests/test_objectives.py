"""Loss terms and λ vectors of the four objectives against hand computations (method §1.2(b), §1.3).

The tiny fixed linear model M(x) = W x + b with W = [[1, 2], [3, −1]], b = [0.5, −0.5]
gives logits by hand:
    [1, 0] → [1.5, 2.5]    [0, 1] → [2.5, −1.5]    [1, 1] → [3.5, 1.5]
    [−1, 0] → [−0.5, −3.5] [0, 0] → [0.5, −0.5]    [1, −1] → [−0.5, 3.5]
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from cftrain import objectives

LOG1P_E1 = math.log(1 + math.exp(-1))  # log(1 + e^−1)
LOG1P_E4 = math.log(1 + math.exp(-4))  # log(1 + e^−4)


def linear_model() -> nn.Linear:
    model = nn.Linear(2, 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, -1.0]]))
        model.bias.copy_(torch.tensor([0.5, -0.5]))
    return model


def t(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


M = linear_model()
X_POS = t([1, 0], [0, 1])  # logits [1.5, 2.5], [2.5, −1.5]
X_CF = t([1, 1], [-1, 0])  # logits [3.5, 1.5], [−0.5, −3.5]
X_AE = t([0, 0], [1, -1])  # logits [0.5, −0.5], [−0.5, 3.5]
TARGET = torch.tensor([1, 0])


def test_model_logits_are_the_hand_values():
    torch.testing.assert_close(M(X_POS), t([1.5, 2.5], [2.5, -1.5]))
    torch.testing.assert_close(M(X_CF), t([3.5, 1.5], [-0.5, -3.5]))


def test_energy_is_the_negative_target_logit():
    # E(x⁺₁, 1) = −2.5, E(x⁺₂, 0) = −2.5
    torch.testing.assert_close(objectives.energy(M(X_POS), TARGET), t(-2.5, -2.5))


def test_div_by_hand():
    # pair 1: E(x⁺)=−2.5, E(x′)=−1.5 → −1.0; pair 2: E(x⁺)=−2.5, E(x′)=0.5 → −3.0; mean −2.0
    value = objectives.div(M(X_POS), M(X_CF), TARGET)
    assert value.item() == pytest.approx(-2.0, abs=1e-12)


def test_div_order_is_positive_minus_counterfactual():
    swapped = objectives.div(M(X_CF), M(X_POS), TARGET)
    assert swapped.item() == pytest.approx(2.0, abs=1e-12)


def test_ridge_by_hand():
    # pair 1: 2.5² + 1.5² = 8.5; pair 2: 2.5² + 0.5² = 6.5; mean 7.5
    # (target logits, deviations §9.18)
    value = objectives.ridge(M(X_POS), M(X_CF), TARGET)
    assert value.item() == pytest.approx(7.5, abs=1e-12)


def test_adv_by_hand_uses_true_labels():
    # [0.5, −0.5] vs label 1: log(e^0.5 + e^−0.5) + 0.5 = 1 + log(1 + e^−1)
    # [−0.5, 3.5] vs label 0: log(e^−0.5 + e^3.5) + 0.5 = 4 + log(1 + e^−4)
    value = objectives.adv(M(X_AE), torch.tensor([1, 0]))
    assert value.item() == pytest.approx((5 + LOG1P_E1 + LOG1P_E4) / 2, abs=1e-12)


def test_clf_by_hand():
    # [1.5, 2.5] vs 0: 1 + log(1 + e^−1); [2.5, −1.5] vs 0: log(1 + e^−4)
    value = objectives.clf(M(X_POS), torch.tensor([0, 0]))
    assert value.item() == pytest.approx((1 + LOG1P_E1 + LOG1P_E4) / 2, abs=1e-12)


def test_identical_pair_has_zero_divergence_but_ridge():
    # a non-converged pair is (x⁺, x⁺): div exactly 0, ridge 2·M(x⁺)[y⁺]²
    logits = M(X_POS)
    assert objectives.div(logits, logits, TARGET).item() == 0.0
    assert objectives.ridge(logits, logits, TARGET).item() == pytest.approx(
        (2 * 2.5**2 + 2 * 2.5**2) / 2
    )


def test_gradients_flow_through_model_at_all_points():
    model = linear_model()
    loss = objectives.div(model(X_POS), model(X_CF), TARGET)
    loss.backward()
    # d div / d W[1] over pair 1 = −(x⁺₁ − x′₁)/2 = −([1,0] − [1,1])/2 = [0, 0.5];
    # d div / d W[0] over pair 2 = −([0,1] − [−1,0])/2 = [−0.5, −0.5]
    torch.testing.assert_close(model.weight.grad, t([-0.5, -0.5], [0.0, 0.5]))


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        ("full", {"clf": 1.0, "div": 0.5, "ridge": 0.1, "adv": 0.25}),
        ("energy", {"clf": 1.0, "div": 0.5, "ridge": 0.1}),
        ("adversarial", {"clf": 1.0, "adv": 0.25}),
        ("vanilla", {"clf": 1.0}),
    ],
)
def test_lambda_vectors_and_defaults(objective, expected):
    assert objectives.lambdas(objective) == expected
    assert list(objectives.lambdas(objective)) == list(expected)  # λ-vector order


def test_lambda_overrides_only_touch_present_terms():
    lam = objectives.lambdas("adversarial", lambda_reg=9.0, lambda_adv=0.7, lambda_clf=2.0)
    assert lam == {"clf": 2.0, "adv": 0.7}


def test_which_objectives_sweep():
    assert [objectives.needs_counterfactuals(o) for o in objectives.OBJECTIVES] == [
        o != "vanilla" for o in objectives.OBJECTIVES
    ]
    assert objectives.PAPER_NAMES == {
        "full": "CT",
        "energy": "CD",
        "adversarial": "AR",
        "vanilla": "BL",
    }


def test_unknown_objective_is_rejected():
    with pytest.raises(ValueError, match="objective"):
        objectives.lambdas("ct")
