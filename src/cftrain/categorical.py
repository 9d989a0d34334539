"""Categorical (one-hot) groups in the counterfactual search (method §4.8, deviations §9 item 19).

The reference's evaluation of Adult and Credit works on the *decoded* counterfactual: every
group of ≥ 2 one-hot columns is snapped to one-hot at its maximum (ties: one of the tied levels
uniformly at random) and a single binary column to ``round(clamp(x, 0, 1))``; loss, penalties,
the convergence check, the returned counterfactual and every metric use that decoded point.
The search state itself stays continuous, and domain clamping leaves the one-hot columns alone.

How the gradient passes the snap is a named option (:data:`MODES`):

* ``"straight_through"`` (default, the reading of the reference's code in method §4.8): the
  gradient at the decoded point is applied unchanged to the continuous state, so the state's
  one-hot coordinates keep moving and a category switches when another level overtakes the
  current maximum.
* ``"frozen"``: no gradient and no step reach the group columns; every counterfactual keeps
  its factual's categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import torch

from cftrain.constraints import Constraints

MODES = ("straight_through", "frozen")
OFF = "off"  # every column continuous: the reference's training sweeps (method §4.8)


@dataclass(frozen=True)
class Categorical:
    """One-hot column ``groups`` (tuples of column indices, as ``Dataset.categorical``) and
    how the search differentiates through their decoding (``mode`` ∈ :data:`MODES`)."""

    groups: tuple[tuple[int, ...], ...]
    mode: str = "straight_through"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"categorical mode={self.mode!r}; expected one of {MODES}")
        groups = tuple(tuple(int(c) for c in g) for g in self.groups)
        flat = [c for g in groups for c in g]
        if any(len(g) == 0 for g in groups) or any(c < 0 for c in flat):
            raise ValueError(f"categorical groups {groups} must be non-empty, of indices >= 0")
        if len(set(flat)) != len(flat):
            raise ValueError(f"categorical groups {groups} overlap")
        object.__setattr__(self, "groups", groups)

    @classmethod
    def of(cls, groups: Sequence[Sequence[int]], mode: str) -> Categorical | None:
        """The search option for a dataset's ``groups`` under ``mode`` ∈ :data:`MODES` or
        :data:`OFF`; ``None`` (every column continuous) when off or there are no groups."""
        if mode == OFF:
            return None
        if mode not in MODES:
            raise ValueError(f"categorical mode={mode!r}; expected one of {(*MODES, OFF)}")
        if not groups:
            return None
        return cls(tuple(tuple(g) for g in groups), mode)

    @cached_property
    def columns(self) -> tuple[int, ...]:
        return tuple(c for g in self.groups for c in g)

    @cached_property
    def _layout(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Padded ``(G, L)`` index matrix and pad mask of the multi-column groups, and the
        single binary columns."""
        multi = [g for g in self.groups if len(g) > 1]
        width = max((len(g) for g in multi), default=1)
        index = torch.zeros(len(multi), width, dtype=torch.long)
        pad = torch.ones(len(multi), width, dtype=torch.bool)
        for i, g in enumerate(multi):
            index[i, : len(g)] = torch.tensor(g)
            pad[i, : len(g)] = False
        single = torch.tensor([g[0] for g in self.groups if len(g) == 1], dtype=torch.long)
        return index, pad, single

    def mask(self, like: torch.Tensor) -> torch.Tensor:
        """Boolean ``(D,)`` mask of the group columns, on ``like``'s device."""
        m = torch.zeros(like.shape[-1], dtype=torch.bool, device=like.device)
        m[list(self.columns)] = True
        return m

    def snap(self, x: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """Decoded copy of ``x: (N, D)``: each multi-column group one-hot at its maximum (ties
        broken uniformly with ``rng``, drawn only when a tie occurs), each single column
        ``round(clamp(x, 0, 1))``; other columns unchanged."""
        return self.snap_cells(x[None], [rng], [x.shape[0]])[0]

    def snap_cells(
        self, x: torch.Tensor, rngs: Sequence[torch.Generator | None], n_live: Sequence[int]
    ) -> torch.Tensor:
        """:meth:`snap` of K cells' rows ``x: (K, W, D)``: cell k's ties are drawn from
        ``rngs[k]`` for its first ``n_live[k]`` rows (the rest is padding), only when one of
        them has a tie, so its draws are those of a search of that cell alone."""
        self._check(x)
        index, pad, single = (t.to(x.device) for t in self._layout)
        out = x.clone()
        if index.numel():
            values = x[..., index].masked_fill(pad, float("-inf"))  # (K, W, G, L)
            top = values == values.amax(dim=-1, keepdim=True)
            score = top.to(x.dtype)
            tied = (top.sum(dim=-1) > 1).any(dim=-1)  # (K, W)
            live = torch.arange(x.shape[1], device=x.device) < torch.tensor(
                list(n_live), device=x.device
            ).unsqueeze(1)
            for k in (tied & live).any(dim=1).nonzero().flatten().tolist():
                rng, n = rngs[k], n_live[k]
                where = rng.device if rng is not None else x.device
                noise = torch.rand(top[k, :n].shape, generator=rng, device=where).to(x.device)
                score[k, :n] = torch.where(top[k, :n], noise, torch.full_like(noise, -1.0))
            hot = torch.nn.functional.one_hot(score.argmax(dim=-1), index.shape[1]).to(x.dtype)
            keep = ~pad
            out[..., index[keep]] = hot[..., keep]
        if single.numel():
            out[..., single] = x[..., single].clamp(0.0, 1.0).round()
        return out

    def decode(
        self, state: torch.Tensor, previous: torch.Tensor, rng: torch.Generator | None
    ) -> torch.Tensor:
        """Decoded point of a new search ``state: (N, D)``; frozen mode keeps the group
        columns of the ``previous`` decoded point, so no tie draw can switch a category."""
        return self.decode_cells(state[None], previous[None], [rng], [state.shape[0]])[0]

    def decode_cells(
        self,
        state: torch.Tensor,
        previous: torch.Tensor,
        rngs: Sequence[torch.Generator | None],
        n_live: Sequence[int],
    ) -> torch.Tensor:
        """:meth:`decode` of K cells' rows ``(K, W, D)`` (draws as :meth:`snap_cells`)."""
        decoded = self.snap_cells(state, rngs, n_live)
        if self.mode == "frozen":
            return torch.where(self.mask(state), previous, decoded)
        return decoded

    def valid(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,)`` bool: every group of ``x: (N, D)`` is one-hot (exactly one 1, rest 0) and
        every single column is 0 or 1."""
        self._check(x)
        ok = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
        for g in self.groups:
            v = x[:, list(g)]
            binary = (v == 0) | (v == 1)
            ok &= binary.all(dim=1)
            if len(g) > 1:
                ok &= v.sum(dim=1) == 1
        return ok

    def point(self, state: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        """The differentiable point the loss sees: the ``decoded`` values, with the gradient
        reaching ``state`` unchanged (straight-through) or not in the group columns (frozen)."""
        tangent = state - state.detach()  # exactly 0 in value, the identity in gradient
        if self.mode == "frozen":
            tangent = tangent.masked_fill(self.mask(state), 0.0)
        return decoded.detach() + tangent

    def project_step(self, delta: torch.Tensor) -> torch.Tensor:
        """Frozen mode: no step in the group columns; straight-through: unchanged."""
        if self.mode == "frozen":
            return delta.masked_fill(self.mask(delta), 0.0)
        return delta

    def unclamped(self, constraints: Constraints) -> Constraints:
        """``constraints`` whose domain bounds leave the group columns open (method §4.8:
        clamping applies to continuous features only)."""
        if constraints.lower is None:
            return constraints
        cols = list(self.columns)
        lower, upper = constraints.lower.clone(), constraints.upper.clone()
        lower[cols], upper[cols] = float("-inf"), float("inf")
        return replace(constraints, lower=lower, upper=upper)

    def _check(self, x: torch.Tensor) -> None:
        if self.columns and max(self.columns) >= x.shape[-1]:
            raise ValueError(
                f"categorical group column {max(self.columns)} is outside {x.shape[-1]} features"
            )


def onehot_validity(x: torch.Tensor, groups: Sequence[Sequence[int]]) -> torch.Tensor:
    """``(N,)`` bool: whether each row of ``x: (N, D)`` has valid one-hot ``groups`` (all rows
    are valid when there are no groups)."""
    if not groups:
        return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    return Categorical(tuple(tuple(g) for g in groups)).valid(x)
