"""The CT objective and its ablations: loss terms and λ vectors (method §1.2(b), §1.3).

Each objective is a set of terms with one weight each, as the reference's λ vectors:

========== ====== ==============================
name       paper  terms (weights)
========== ====== ==============================
full       CT     clf, div, ridge, adv
energy     CD     clf, div, ridge (no adv)
adversarial AR    clf, adv (no div, no ridge)
vanilla    BL     clf only; no counterfactuals
========== ====== ==============================

Every term takes logits, not models, so that training can push one concatenated
batch through the model and slice the result (one forward/backward per step).
Energies are raw logits, ``E(x, y) = −M(x)[y]`` (method §10: not log-softmax).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cftrain import two_class

#: objective name → paper abbreviation (method §1.3)
PAPER_NAMES = {"full": "CT", "energy": "CD", "adversarial": "AR", "vanilla": "BL"}
OBJECTIVES = tuple(PAPER_NAMES)
#: all loss terms, in the order of the reference's λ vector
TERMS = ("clf", "div", "ridge", "adv")
_TERMS_OF = {
    "full": ("clf", "div", "ridge", "adv"),
    "energy": ("clf", "div", "ridge"),
    "adversarial": ("clf", "adv"),
    "vanilla": ("clf",),
}
#: library defaults of the reference (`src/objectives.jl`, method §1.3)
DEFAULT_LAMBDAS = {"clf": 1.0, "div": 0.5, "ridge": 0.1, "adv": 0.25}


def _check(objective: str) -> None:
    if objective not in _TERMS_OF:
        raise ValueError(f"objective={objective!r}; expected one of {OBJECTIVES}")


def terms(objective: str) -> tuple[str, ...]:
    """The loss terms an objective contains, in λ-vector order."""
    _check(objective)
    return _TERMS_OF[objective]


def lambdas(
    objective: str,
    *,
    lambda_clf: float = DEFAULT_LAMBDAS["clf"],
    lambda_div: float = DEFAULT_LAMBDAS["div"],
    lambda_reg: float = DEFAULT_LAMBDAS["ridge"],
    lambda_adv: float = DEFAULT_LAMBDAS["adv"],
) -> dict[str, float]:
    """The objective's λ vector as ``{term: weight}``, only its own terms (method §1.3).

    E.g. ``lambdas("adversarial") == {"clf": 1.0, "adv": 0.25}``: absent terms are
    not weighted by zero but not computed at all.
    """
    given = {"clf": lambda_clf, "div": lambda_div, "ridge": lambda_reg, "adv": lambda_adv}
    return {t: float(given[t]) for t in terms(objective)}


def needs_counterfactuals(objective: str) -> bool:
    """Every objective but ``vanilla`` runs the per-epoch sweep (CD and AR too, method §1.2(a))."""
    return len(terms(objective)) > 1


def energy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``E(x, y) = −M(x)[y]`` per row: logits ``(..., N, K)``, target → ``(..., N)``."""
    return -logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Logit cross-entropy per row: ``(..., N, K)``, ``(..., N)`` → ``(..., N)``."""
    if two_class.applies(logits) and y.numel() >= two_class.MIN_ROWS:
        return two_class.cross_entropy(logits, y)
    return F.cross_entropy(logits.flatten(0, -2), y.flatten(), reduction="none").view(y.shape)


def clf(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Logit cross-entropy of the mini-batch, mean over rows: ``(..., N, K)``, ``(..., N)`` →
    ``(...)`` (one value per cell with a leading cell axis)."""
    return cross_entropy(logits, y).mean(dim=-1)


def div(logits_pos: torch.Tensor, logits_cf: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Contrastive divergence ``mean_j E(x⁺_j, y⁺_j) − E(x′_j, y⁺_j)`` (method §1.2(b)).

    logits_pos = M(x⁺), logits_cf = M(x′), each ``(..., G, K)``; target y⁺ ``(..., G)``.
    Minimising it lowers the energy of real target-class samples and raises that of
    the counterfactuals. A pair whose x′ is x⁺ itself contributes exactly 0.
    """
    return (energy(logits_pos, target) - energy(logits_cf, target)).mean(dim=-1)


def ridge(logits_pos: torch.Tensor, logits_cf: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Energy regulariser ``mean_j M(x⁺_j)[y⁺_j]² + M(x′_j)[y⁺_j]²``.

    Uses the target y⁺ for both energies, as the code (the paper writes y, deviations §9.18);
    it keeps the divergence from being minimised by inflating logits.
    """
    return (energy(logits_pos, target) ** 2 + energy(logits_cf, target) ** 2).mean(dim=-1)


def adv(logits_ae: torch.Tensor, y_true: torch.Tensor) -> torch.Tensor:
    """Adversarial term: logit cross-entropy of M(x_AE) against the factuals' *true* labels.

    ``(..., G, K)``, ``(..., G)`` → ``(...)``; the label is the ground truth, not the
    prediction or the target (deviations §9.5).
    """
    return cross_entropy(logits_ae, y_true).mean(dim=-1)
