"""FGSM, PGD and robust-accuracy curves (issue 5, method §5.4)."""

from __future__ import annotations

import pytest
import torch

from cftrain.evaluation import EPSILONS, accuracy, fgsm, pgd, robust_accuracy_curve
from cftrain.evaluation.robustness import robustness_curves
from cftrain.models import build


def _linear(seed: int = 0, d: int = 5):
    model = build("linear", d, 2, seed=seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, d, generator=g)
    y = torch.randint(0, 2, (64,), generator=g)
    return model, x, y


def _analytic_corner(model, x, y, eps):
    """For logits Wx + b, ∇ₓ CE = (p_other)(w_other − w_y): its sign is sign(w_other − w_y)."""
    w = model[0].weight.detach()
    direction = torch.sign(w[1 - y] - w[y])
    return x + eps * direction


def test_fgsm_on_a_linear_model_is_the_analytic_sign_step():
    model, x, y = _linear()
    assert torch.allclose(fgsm(model, x, y, 0.05), _analytic_corner(model, x, y, 0.05))


def test_pgd_on_a_linear_model_reaches_the_same_corner():
    # 40 steps of 0.01 span 0.4 ≥ 2ε: from any start in the ball PGD ends at the corner
    model, x, y = _linear(1)
    x_adv = pgd(model, x, y, 0.1, torch.Generator().manual_seed(0))
    assert torch.allclose(x_adv, _analytic_corner(model, x, y, 0.1), atol=1e-6)


@pytest.mark.parametrize("eps", [0.0, 0.03, 0.1, 0.5])
def test_pgd_never_leaves_the_epsilon_ball(eps):
    g = torch.Generator().manual_seed(2)
    model = build("mlp", 4, 3, seed=2)
    x = torch.randn(200, 4, generator=g)
    y = torch.randint(0, 3, (200,), generator=g)
    x_adv = pgd(model, x, y, eps, torch.Generator().manual_seed(3), steps=15, step_size=0.07)
    assert (x_adv - x).abs().max().item() <= eps + 1e-6
    if eps > 0:  # the attack moves points (no hidden clamping to zero)
        assert (x_adv - x).abs().max().item() > 0.9 * eps


def test_attacks_are_not_clamped_to_any_domain():
    model, x, y = _linear(3)
    x = x.clamp(-1, 1)
    x[0] = 1.0  # on the edge of a [-1, 1] box
    assert (fgsm(model, x, y, 0.1).abs() > 1.0).any()


def test_pgd_is_reproducible_from_its_generator():
    model, x, y = _linear(4)
    model = build("mlp", 5, 2, seed=4)
    a = pgd(model, x, y, 0.05, torch.Generator().manual_seed(0), steps=3)
    b = pgd(model, x, y, 0.05, torch.Generator().manual_seed(0), steps=3)
    c = pgd(model, x, y, 0.05, torch.Generator().manual_seed(1), steps=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_robust_accuracy_curve_starts_at_clean_accuracy_and_falls():
    g = torch.Generator().manual_seed(5)
    model = build("mlp", 3, 2, seed=5)
    x = torch.randn(300, 3, generator=g) * 0.05  # near the decision boundary
    y = model(x).argmax(1)  # clean accuracy 1 by construction
    y[:50] = 1 - y[:50]  # … and 5/6 after flipping some labels
    curve = robust_accuracy_curve(model, x, y, torch.Generator().manual_seed(0))
    assert len(curve) == 2 * len(EPSILONS)
    assert curve["epsilon"].unique().tolist() == pytest.approx(EPSILONS.tolist())
    clean = accuracy(model, x, y)
    at_zero = curve[curve["epsilon"] == 0.0]
    assert at_zero["accuracy"].tolist() == [clean, clean]
    for _, part in curve.groupby("attack"):
        assert part["accuracy"].iloc[-1] < clean - 0.1


def test_robustness_curves_label_models_and_share_start_noise():
    model, x, y = _linear(6)
    curves = robustness_curves({"BL": model, "CT": model}, x, y, seed=3)
    assert set(curves["model"]) == {"BL", "CT"}
    bl = curves[curves["model"] == "BL"]["accuracy"].to_numpy()
    ct = curves[curves["model"] == "CT"]["accuracy"].to_numpy()
    assert (bl == ct).all()


def test_pgd_at_zero_epsilon_returns_x_and_draws_its_noise_like_any_epsilon():
    """ε = 0 skips the steps (the ball is x itself) but consumes the same random numbers, so
    a curve's later ε see the generator state they would see after a full ε = 0 attack."""
    model = build("mlp", 5, 2, seed=6)
    _, x, y = _linear(6)
    g0, g1 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert torch.equal(pgd(model, x, y, 0.0, g0), x)
    pgd(model, x, y, 0.05, g1, steps=2)
    assert torch.equal(torch.rand(3, generator=g0), torch.rand(3, generator=g1))
