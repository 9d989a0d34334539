"""The counterfactual search of K cells at once (method §2.1, §10; issue 25).

Every cell searches its own factuals with its own model slice, generator weights, τ, T,
step size and AE radius (tensors with a leading cell axis), and draws from its own
``torch.Generator``: each row behaves as in a search of that cell alone (own target, own
step counter, frozen at its first step with p(target) ≥ τ, own nascent example). Rows
that stop stay in the working set, masked, until the width of the busiest cell
(:meth:`StackedModel.rows`: padded so that no kernel's rounding depends on the row count)
can shrink; then each cell's live rows move to the front, in order. A row's numbers do not
depend on its position (a matrix product's rows are computed alike; elementwise kernels
see whole SIMD chunks). Generators that draw for the live rows at every step (REVISE's
encodings, categorical ties) compact at every stop instead, so that a cell's draws are
the ones its single-cell search makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from cftrain import objectives, two_class
from cftrain.constraints import Constraints
from cftrain.search import SearchResult, _within

if TYPE_CHECKING:
    from cftrain.categorical import Categorical
    from cftrain.generators.base import Generator
    from cftrain.stacking import StackedModel


@dataclass(frozen=True)
class CellSettings:
    """Per-cell search settings: ``tau`` ``(K, 1)``, ``step_size`` and ``ae_epsilon``
    ``(K, 1, 1)`` in the model's dtype; ``max_iter`` ``(K, 1)`` int64."""

    tau: torch.Tensor
    max_iter: torch.Tensor
    step_size: torch.Tensor
    ae_epsilon: torch.Tensor

    def cells(self, index: torch.Tensor) -> CellSettings:
        """The settings of the cells at ``index`` only."""
        return CellSettings(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @classmethod
    def of(
        cls,
        tau: Sequence[float],
        max_iter: Sequence[int],
        step_size: Sequence[float],
        ae_epsilon: Sequence[float],
        like: torch.Tensor,
    ) -> CellSettings:
        """From per-cell Python values; floats are rounded to ``like``'s dtype as a Python
        scalar in a tensor operation would be."""

        def column(values: Sequence[float]) -> torch.Tensor:
            return torch.tensor(list(values), dtype=like.dtype, device=like.device)[:, None]

        return cls(
            tau=column(tau),
            max_iter=torch.tensor(list(max_iter), device=like.device)[:, None],
            step_size=column(step_size)[:, :, None],
            ae_epsilon=column(ae_epsilon)[:, :, None],
        )


def stack_generators(generators: Sequence[Generator], like: torch.Tensor) -> Generator:
    """One generator of the cells' common class whose float weights are ``(K, 1)``
    tensors in ``like``'s dtype; other fields (a VAE, a pool) must be the same object."""
    first = generators[0]
    if any(type(g) is not type(first) for g in generators):
        raise ValueError("cells of one batch need generators of one class")
    if not dataclasses.is_dataclass(first):
        return first
    values = {}
    for field in dataclasses.fields(first):
        own = [getattr(g, field.name) for g in generators]
        if _weight(field):
            values[field.name] = torch.tensor(own, dtype=like.dtype, device=like.device)[:, None]
        elif any(v is not own[0] for v in own[1:]):
            raise ValueError(f"cells of one batch must share their generators' {field.name}")
    return dataclasses.replace(first, **values)


def _weight(field: dataclasses.Field) -> bool:
    """A generator's per-cell weight: a field declared ``float``."""
    return field.type in (float, "float")


def _cells_of(generator: Generator, cells: torch.Tensor) -> Generator:
    """The stacked ``generator`` of the cells at ``cells`` (indices) only."""
    if not dataclasses.is_dataclass(generator):
        return generator
    weights = {
        f.name: getattr(generator, f.name)[cells]
        for f in dataclasses.fields(generator)
        if _weight(f)
    }
    return dataclasses.replace(generator, **weights)


def search_cells(
    model: StackedModel,
    x: torch.Tensor,
    target: torch.Tensor,
    generator: Generator,
    constraints: Constraints | None,
    settings: CellSettings,
    rngs: Sequence[torch.Generator | None],
    categorical: Categorical | None = None,
) -> SearchResult:
    """Search counterfactuals for K cells' factuals ``x: (K, N, D)`` towards ``target:
    (K, N)``; the model is read, not updated. Returns a :class:`SearchResult` whose
    tensors have a leading cell axis and whose ``n_nonfinite`` is ``(K,)``.

    generator: from :func:`stack_generators`; categorical: one-hot decoding of the
    search (method §4.8), as in :func:`cftrain.search.search`.
    """
    constraints = constraints or Constraints()
    if categorical is not None:
        if generator.latent:
            raise ValueError("categorical groups need a feature-space generator, not a latent one")
        constraints = categorical.unclamped(constraints)
    proposed = generator.propose_cells(model, x, target, rngs)
    if proposed is not None:
        return proposed

    def point(s: torch.Tensor) -> torch.Tensor:
        """Features of a state; a latent state's decoding is clamped so outputs stay in domain."""
        return constraints.clamp(generator.decode(s)) if generator.latent else s

    n_cells, n, _ = x.shape
    device = x.device
    # parameters without autograd history: the graph of each step reaches the inputs only
    model = model.subset(torch.arange(n_cells, device=device))
    width = model.rows(n)
    slots = torch.arange(width, device=device).expand(n_cells, width)
    rows = slots.clamp(max=n - 1)  # padding repeats the last row: finite, never recorded
    live = slots < n
    n_live = [n] * n_cells
    xw, tw = _gather(x, rows), target.gather(1, rows)
    with torch.no_grad():
        state = generator.encode_cells(xw, rngs, n_live).clone()
        if categorical is None:
            current = point(state).clone()
        else:
            current = categorical.snap_cells(state, rngs, n_live)
    counterfactuals = current[:, :n].clone()
    converged = torch.zeros(n_cells, n, dtype=torch.bool, device=device)
    iterations = torch.zeros(n_cells, n, dtype=torch.long, device=device)
    nascent_w = _within(xw.clone(), current, xw, settings.ae_epsilon)
    nascent = nascent_w[:, :n].clone()
    n_nonfinite = torch.zeros(n_cells, dtype=torch.long, device=device)
    cells = torch.arange(n_cells, device=device)  # the working cells: those with live rows
    offset = cells[:, None] * n
    last = int(settings.max_iter.max())
    above_half = bool((settings.tau > 0.5).all())  # one host sync, not one per step
    draws = generator.latent or categorical is not None  # per-step draws for the live rows

    # Iteration k checks convergence of the live rows, then steps them: one forward pass
    # serves the stopping rule and the gradient (as the single-cell search).
    work = (state, current, xw, tw, torch.zeros_like(rows), nascent_w)
    for k in range(last + 1):
        w_state, w_current, w_x, w_target, w_iter, w_nascent = work
        s = w_state.detach().requires_grad_(k < last)
        xs = point(s) if categorical is None else categorical.point(s, w_current)
        logits = model(xs)
        with torch.no_grad():
            hit = two_class.reaches(logits, w_target, settings.tau, above_half)
        stop = live & (hit | (w_iter >= settings.max_iter))
        some_stop = bool(stop.any())
        if some_stop:
            done = (offset + rows)[stop]
            counterfactuals.view(-1, counterfactuals.shape[-1])[done] = w_current[stop]
            converged.view(-1)[done] = hit[stop]
            iterations.view(-1)[done] = w_iter[stop]
            nascent.view(-1, nascent.shape[-1])[done] = w_nascent[stop]
            live = live & ~stop
            if not bool(live.any()):
                break
        # every row of the working set has taken k steps: one step count per cell
        loss = objectives.cross_entropy(logits, w_target) + generator.penalty(
            xs, w_x, logits, w_target, w_iter[:, :1] + 1, settings.max_iter
        )
        (grad,) = torch.autograd.grad(loss.masked_fill(~live, 0.0).sum(), s)
        if some_stop:
            counts = live.sum(dim=1)
            if not bool(counts.all()):  # cells without live rows leave the working set
                keep = counts.nonzero().flatten()
                cells, counts, live, rows, grad = (
                    t[keep] for t in (cells, counts, live, rows, grad)
                )
                w_state, w_current, w_x, w_target, w_iter, w_nascent = (
                    t[keep] for t in (w_state, w_current, w_x, w_target, w_iter, w_nascent)
                )
                rngs = [rngs[k] for k in keep.tolist()]
                model, generator = model.subset(keep), _cells_of(generator, keep)
                settings, offset = settings.cells(keep), cells[:, None] * n
            n_live = counts.tolist()
            width = model.rows(max(n_live))
            if width < live.shape[1] or draws:  # compact: live rows first, in order
                order = torch.argsort((~live).to(torch.int8), dim=1, stable=True)[:, :width]
                rows, live, w_target, w_iter = (
                    t.gather(1, order) for t in (rows, live, w_target, w_iter)
                )
                grad, w_state, w_current, w_x, w_nascent = (
                    _gather(t, order) for t in (grad, w_state, w_current, w_x, w_nascent)
                )
        delta = -settings.step_size * grad
        if not bool(torch.isfinite(delta.sum())):  # one reduction; NaN and ±inf propagate
            nonfinite = ~torch.isfinite(delta)
            n_nonfinite.index_add_(0, cells, (nonfinite & live.unsqueeze(-1)).sum(dim=(1, 2)))
            delta = delta.masked_fill(nonfinite, 0.0)
        with torch.no_grad():
            if generator.latent:
                moved = constraints.clamp(generator.decode(w_state + delta))
                new_state = generator.encode_cells(moved, rngs, n_live)
                moved = point(new_state)
            elif categorical is None:
                step = constraints.project_step(delta)
                new_state = moved = constraints.clamp(w_state + step, before=w_state)
            else:
                step = categorical.project_step(constraints.project_step(delta))
                new_state = constraints.clamp(w_state + step, before=w_state)
                moved = categorical.decode_cells(new_state, w_current, rngs, n_live)
        work = (
            new_state,
            moved,
            w_x,
            w_target,
            w_iter + 1,
            _within(w_nascent, moved, w_x, settings.ae_epsilon),
        )

    return SearchResult(
        counterfactuals=counterfactuals,
        converged=converged,
        iterations=iterations,
        nascent=nascent,
        n_nonfinite=n_nonfinite,
    )


def _gather(t: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Rows ``(K, W')`` of ``t: (K, W, F)`` per cell."""
    return t.gather(1, rows.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
