"""Robust accuracy under FGSM and PGD over the ε grid of method §5.4.

Every test point is attacked with its true label in the L∞ ball; as in the reference the
adversarial points are *not* clamped to the data domain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from cftrain.evaluation.performance import predict
from cftrain.modes import evaluating

EPSILONS = torch.linspace(0, 0.1, 10)  # method §5.4: {0, 0.0111, …, 0.1}
PGD_STEPS = 40
PGD_STEP_SIZE = 0.01
ATTACKS = ("fgsm", "pgd")


def _loss_sign_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``sign(∇ₓ CE(M(x), y))`` per row; the summed loss keeps rows independent."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    return grad.sign()


@evaluating
def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    """FGSM: ``x + ε·sign(∇ₓ CE(M(x), y))`` for ``x: (N, D)``, ``y: (N,)`` → (N, D)."""
    return (x + epsilon * _loss_sign_gradient(model, x, y)).detach()


@evaluating
def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    generator: torch.Generator,
    steps: int = PGD_STEPS,
    step_size: float = PGD_STEP_SIZE,
) -> torch.Tensor:
    """PGD in the L∞ ε-ball around ``x: (N, D)`` → (N, D).

    Start at ``x + U(−ε, ε)`` (inside the ball by construction, deviations §11.7), then ``steps``
    signed-gradient ascent steps of ``step_size``, each followed by projection onto the ball.
    """
    noise = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    if epsilon == 0:  # the ball is x itself; the noise is still drawn so later ε draw the same
        return x.detach().clone()
    x_adv = x + (2 * noise - 1) * epsilon
    for _ in range(steps):
        x_adv = x_adv + step_size * _loss_sign_gradient(model, x_adv, y)
        x_adv = torch.maximum(torch.minimum(x_adv, x + epsilon), x - epsilon)
    return x_adv.detach()


@evaluating
def robust_accuracy_curve(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    generator: torch.Generator,
    epsilons: torch.Tensor = EPSILONS,
    attacks: Sequence[str] = ATTACKS,
) -> pd.DataFrame:
    """Accuracy on attacked ``x: (N, D)`` for each attack and ε → tidy rows (attack, epsilon,
    accuracy)."""
    rows = []
    for attack in attacks:
        if attack not in ATTACKS:
            raise ValueError(f"attack={attack!r}; expected one of {ATTACKS}")
        for eps in epsilons.tolist():
            x_adv = fgsm(model, x, y, eps) if attack == "fgsm" else pgd(model, x, y, eps, generator)
            acc = float((predict(model, x_adv) == y).double().mean())
            rows.append({"attack": attack, "epsilon": eps, "accuracy": acc})
    return pd.DataFrame(rows)


@evaluating
def robustness_curves(
    models: Mapping[str, nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    seed: int = 0,
    epsilons: torch.Tensor = EPSILONS,
    attacks: Sequence[str] = ATTACKS,
) -> pd.DataFrame:
    """Curves of several models (e.g. BL, CT, AR, CD) on one test set, column ``model`` added.

    Every model gets a generator seeded with ``seed``, so PGD start noise is shared.
    """
    frames = []
    for name, model in models.items():
        curve = robust_accuracy_curve(
            model, x, y, torch.Generator().manual_seed(seed), epsilons, attacks
        )
        frames.append(curve.assign(model=name))
    return pd.concat(frames, ignore_index=True)[["model", "attack", "epsilon", "accuracy"]]
