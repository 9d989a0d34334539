"""The batched counterfactual search: one gradient loop for N factuals at once (method §2.1, §10).

Each row behaves exactly as if it were searched alone: it has its own target, its
own step counter t (for schedules such as ECCo's φ_t), freezes the first time
``softmax(M(x′))[target] ≥ τ``, and records its own nascent example (the last path
state within the L∞ ball ``ae_epsilon`` of its factual, method §1.2 step 5). Rows are
independent because the objective is a sum of per-row terms and the model has no
batch-coupling layers, so one ``autograd.grad`` of the summed loss is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from cftrain import two_class, validation
from cftrain.constraints import Constraints
from cftrain.modes import evaluating

if TYPE_CHECKING:
    from cftrain.categorical import Categorical
    from cftrain.generators.base import Generator


@dataclass
class SearchResult:
    """Outcome of one batched search over N factuals.

    counterfactuals: ``(N, D)`` final states; converged: ``(N,)`` bool (target
    probability ≥ τ at the final state); iterations: ``(N,)`` steps taken;
    nascent: ``(N, D)`` last state within ``ae_epsilon`` of the factual (L∞);
    path: ``(S+1, N, D)`` states per step if requested (a row repeats its final
    state after it stops; path[0] is the initial state); n_nonfinite: number of
    non-finite step entries that were set to 0 (deviations §11.6).
    """

    counterfactuals: torch.Tensor
    converged: torch.Tensor
    iterations: torch.Tensor
    nascent: torch.Tensor
    path: torch.Tensor | None = None
    n_nonfinite: int = 0


@evaluating
def search(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    generator: Generator,
    constraints: Constraints | None = None,
    *,
    tau: float = 0.75,
    max_iter: int = 30,
    step_size: float = 0.1,
    ae_epsilon: float = 0.3,
    keep_path: bool = False,
    rng: torch.Generator | None = None,
    categorical: Categorical | None = None,
    domain_bound: bool = True,
) -> SearchResult:
    """Search counterfactuals for factuals ``x: (N, D)`` towards classes ``target: (N,)``.

    Plain gradient descent on cross-entropy(M(x′), target) + generator penalty with
    step ``step_size`` (the reference always used 0.1, deviations §9.1); each step is
    projected by mutability (feature-space generators only) and clamped to the
    domain. The model runs in eval mode (its previous mode is restored) and its
    parameters and buffers are not touched; ``x`` (tensor or array) and ``target`` are
    validated and converted to the model's device and dtype, where all results live.

    ``categorical`` (:class:`cftrain.categorical.Categorical`, method §4.8): the search then
    works on the decoded point — one-hot groups snapped at every step for the loss,
    penalties, convergence check, nascent example and the returned counterfactual — while
    its state stays continuous; ties are drawn with ``rng``; the domain clamp skips the
    group columns. ``None`` treats every column as continuous (the training sweeps).

    ``domain_bound=False`` turns the domain clamp off (the mutability projection stays):
    counterfactuals may leave the data's domain, as in the seed draft's initial grid
    (method §2.7, §4.5).
    """
    settings = {
        "tau": tau,
        "max_iter": max_iter,
        "step_size": step_size,
        "ae_epsilon": ae_epsilon,
        "domain_bound": domain_bound,
    }
    x, target = validation.search_inputs(model, x, target, constraints, settings)
    constraints = constraints or Constraints()
    if not domain_bound:
        constraints = constraints.unbounded()
    if categorical is not None:
        if generator.latent:
            raise ValueError("categorical groups need a feature-space generator, not a latent one")
        constraints = categorical.unclamped(constraints)
    proposed = generator.propose(model, x, target, rng)
    if proposed is not None:
        return proposed

    def point(s: torch.Tensor) -> torch.Tensor:
        """Features of a state; a latent state's decoding is clamped so outputs stay in domain."""
        return constraints.clamp(generator.decode(s)) if generator.latent else s

    n = x.shape[0]
    with torch.no_grad():
        state = generator.encode(x, rng).clone()
        current = point(state).clone() if categorical is None else categorical.snap(state, rng)
    counterfactuals = current.clone()
    converged = torch.zeros(n, dtype=torch.bool, device=x.device)
    iterations = torch.zeros(n, dtype=torch.long, device=x.device)
    nascent = _within(x.clone(), current, x, ae_epsilon)
    path = [current.clone()] if keep_path else None
    n_nonfinite = 0

    # The working set holds the rows still searching, compacted only when some stop, so
    # steps need no gather/scatter. Iteration k checks convergence of the working rows,
    # then steps the others: one forward pass serves the stopping rule and the gradient.
    rows = torch.arange(n, device=x.device)
    work = (state, current, x, target, iterations, nascent)
    for k in range(max_iter + 1):
        w_state, w_current, w_x, w_target, w_iter, w_nascent = work
        s = w_state.detach().requires_grad_(k < max_iter)
        xs = point(s) if categorical is None else categorical.point(s, w_current)
        logits = model(xs)
        with torch.no_grad():
            hit = two_class.reaches(logits, w_target, tau, above_half=tau > 0.5)
        stop = hit if k < max_iter else torch.ones_like(hit)
        some_stop = bool(stop.any())
        if some_stop:
            done = rows[stop]
            counterfactuals[done] = w_current[stop]
            converged[done] = hit[stop]
            iterations[done] = w_iter[stop]
            nascent[done] = w_nascent[stop]
            if bool(stop.all()):
                break
        loss = F.cross_entropy(logits, w_target, reduction="none") + generator.penalty(
            xs, w_x, logits, w_target, w_iter + 1, max_iter
        )
        (grad,) = torch.autograd.grad(loss[~stop].sum(), s)
        if some_stop:
            keep = ~stop
            rows, grad = rows[keep], grad[keep]
            w_state, w_current, w_x, w_target, w_iter, w_nascent = (
                t[keep] for t in (w_state, w_current, w_x, w_target, w_iter, w_nascent)
            )
        delta = -step_size * grad
        if not bool(torch.isfinite(delta.sum())):  # one reduction; NaN and ±inf propagate
            nonfinite = ~torch.isfinite(delta)
            n_nonfinite += int(nonfinite.sum())
            delta = delta.masked_fill(nonfinite, 0.0)
        with torch.no_grad():
            if generator.latent:
                moved = constraints.clamp(generator.decode(w_state + delta))
                new_state = generator.encode(moved, rng)
                moved = point(new_state)
            elif categorical is None:
                step = constraints.project_step(delta)
                new_state = moved = constraints.clamp(w_state + step, before=w_state)
            else:
                step = categorical.project_step(constraints.project_step(delta))
                new_state = constraints.clamp(w_state + step, before=w_state)
                moved = categorical.decode(new_state, w_current, rng)
        work = (
            new_state,
            moved,
            w_x,
            w_target,
            w_iter + 1,
            _within(w_nascent, moved, w_x, ae_epsilon),
        )
        if path is not None:
            current[rows] = moved
            path.append(current.clone())

    return SearchResult(
        counterfactuals=counterfactuals,
        converged=converged,
        iterations=iterations,
        nascent=nascent,
        path=torch.stack(path) if path is not None else None,
        n_nonfinite=n_nonfinite,
    )


def _within(
    nascent: torch.Tensor, points: torch.Tensor, x: torch.Tensor, epsilon: float | torch.Tensor
) -> torch.Tensor:
    """``points`` where their L∞ distance to the factuals ``x`` is ≤ ε, else ``nascent``
    (rows ``(..., N, D)``; a tensor ε broadcasts against ``(..., N, 1)``)."""
    inside = (points - x).abs().amax(dim=-1, keepdim=True) <= epsilon
    return torch.where(inside, points, nascent)
