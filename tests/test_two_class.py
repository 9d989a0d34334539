"""The two-class kernels decide and differentiate bitwise as softmax and cross-entropy
(issue 25): the search and the training may use either without changing a number."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cftrain import objectives, two_class
from cftrain.allocator import keep_freed_memory

SCALES = (1e-4, 1e-2, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _logits(k: int, w: int, scale: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(k, w, 2, generator=g) * scale


def _targets(k: int, w: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 2, (k, w), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("tau", [0.5000001, 0.6, 0.75, 0.9, 0.999])
def test_reaches_decides_as_the_softmax(tau):
    hits = 0
    for i, scale in enumerate(SCALES):
        logits, target = _logits(6, 512, scale, i), _targets(6, 512, i)
        if i % 2:  # margins z_t − z_o within a few ulps of logit(τ): p(target) at τ's edge
            ulps = torch.randint(-64, 65, (6, 512), generator=torch.Generator().manual_seed(i))
            margin = torch.logit(torch.tensor(tau)) * (1 + ulps * 2.0**-23)
            z_t = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            logits.scatter_(-1, (1 - target).unsqueeze(-1), (z_t - margin).unsqueeze(-1))
        taus = torch.full((6, 1), tau)
        prob = logits.softmax(dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        fast = two_class.reaches(logits, target, taus, above_half=True)
        assert torch.equal(fast, prob >= taus), scale
        hits += int(fast.sum())
    assert 0 < hits < 6 * 512 * len(SCALES)  # both decisions occur


@pytest.mark.parametrize("k, w", [(1, 32), (5, 64), (96, 1024)])
def test_the_leading_probability_is_the_softmax_bitwise(k, w):
    for i, scale in enumerate(SCALES):
        logits, target = _logits(k, w, scale, 200 + i), _targets(k, w, 200 + i)
        prob = logits.softmax(dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        z_t = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        leads = z_t >= logits.gather(-1, (1 - target).unsqueeze(-1)).squeeze(-1)
        fast = two_class.leading_probability(logits, target)
        assert torch.equal(fast[leads], prob[leads]), scale
        assert bool((fast[~leads] <= 0.5).all()) and bool((prob[~leads] <= 0.5).all())


@pytest.mark.parametrize("tau", [0.3, 0.5])
def test_reaches_at_or_below_half_is_the_softmax(tau):
    """τ ≤ 0.5: rows whose target logit is the smaller can reach τ, so the softmax decides."""
    logits, target = _logits(4, 256, 1.0, 7), _targets(4, 256, 7)
    # margins z_t − z_o at τ's edge (a few ulps around logit(τ), or ±1e-8 for τ = 0.5)
    ulps = torch.randint(-64, 65, (4, 256), generator=torch.Generator().manual_seed(7))
    edge = torch.logit(torch.tensor(tau))
    margin = edge * (1 + ulps * 2.0**-23) if tau != 0.5 else ulps * 1e-8
    z_t = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    logits.scatter_(-1, (1 - target).unsqueeze(-1), (z_t - margin).unsqueeze(-1))
    prob = logits.softmax(dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    decided = two_class.reaches(logits, target, tau, above_half=False)
    assert torch.equal(decided, prob >= tau)
    assert 0 < int(decided.sum()) < decided.numel()


def test_reaches_with_non_finite_logits():
    values = torch.tensor([float("inf"), float("-inf"), float("nan"), 0.0, 1.0, -3.0])
    pairs = torch.cartesian_prod(values, values)  # 36 rows of (z0, z1)
    logits = torch.cat([pairs, pairs[:28]]).view(1, 64, 2)
    for t in (0, 1):
        target = torch.full((1, 64), t)
        tau = torch.full((1, 1), 0.75)
        prob = logits.softmax(dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        assert torch.equal(two_class.reaches(logits, target, tau, above_half=True), prob >= tau)


def _usual(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, -2), y.flatten(), reduction="none").view(y.shape)


@pytest.mark.parametrize("shape", [(1, 4096), (3, 1024), (96, 64), (2, 2048)])
def test_cross_entropy_and_its_gradient_are_bitwise_the_usual(shape):
    k, w = shape
    for i, scale in enumerate(SCALES):
        base = _logits(k, w, scale, 100 + i)
        y = _targets(k, w, 100 + i)
        weight = torch.randn(k, 2, 3, generator=torch.Generator().manual_seed(i))
        mask = torch.rand(k, w, generator=torch.Generator().manual_seed(i)) < 0.8
        grads, values = [], []
        for loss_of in (_usual, two_class.cross_entropy):
            x = base.clone().requires_grad_()
            logits = x * 1.0  # the gradient of x passes through the logits' own
            loss = loss_of(logits, y)
            # a masked sum: zero gradients for some rows, as in the search
            (grad,) = torch.autograd.grad(loss.masked_fill(~mask, 0.0).sum(), logits)
            values.append(loss.detach())
            grads.append(grad)
        assert torch.equal(values[0], values[1]), scale
        assert torch.equal(grads[0], grads[1]), scale
        # the matrix product behind the logits sees the usual layout: the same BLAS call
        assert grads[1].stride() == grads[0].stride()
        assert torch.equal(torch.bmm(grads[0], weight), torch.bmm(grads[1], weight))


def test_objectives_cross_entropy_takes_the_shortcut_only_where_it_holds(monkeypatch):
    calls = []
    monkeypatch.setattr(two_class, "cross_entropy", lambda *a: calls.append(a) or _usual(*a))
    objectives.cross_entropy(torch.zeros(4, 1024, 2), torch.zeros(4, 1024, dtype=torch.long))
    assert len(calls) == 1
    for logits in (torch.zeros(1000, 2), torch.zeros(64, 2), torch.zeros(4096, 3)):
        y = torch.zeros(logits.shape[0], dtype=torch.long)
        objectives.cross_entropy(logits, y)
    assert len(calls) == 1  # ragged rows, too few rows, three classes: the usual kernel


def test_keep_freed_memory_is_taken_by_glibc():
    assert keep_freed_memory()
