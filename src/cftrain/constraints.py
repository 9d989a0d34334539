"""Domain bounds and per-feature mutability (method §2.1, §4.5, §4.7).

A search step is first *projected* by mutability (immutable coordinates do not
move, increase-only ones cannot go down, …) and the result is then *clamped* to
the domain. Both operate on ``(N, D)`` tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Integral

import torch

MUTABILITY_KINDS = ("both", "increase", "decrease", "none")


@dataclass(frozen=True)
class Constraints:
    """Per-feature constraints; ``None`` means unconstrained in that respect.

    lower, upper: ``(D,)`` domain bounds (``±inf`` entries leave a side open).
    mutability: one of ``MUTABILITY_KINDS`` per feature.
    """

    lower: torch.Tensor | None = None
    upper: torch.Tensor | None = None
    mutability: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.mutability is not None:
            bad = {m for m in self.mutability if m not in MUTABILITY_KINDS}
            if bad:
                raise ValueError(
                    f"mutability values {sorted(bad)} are not among {MUTABILITY_KINDS}"
                )
            object.__setattr__(self, "mutability", tuple(self.mutability))
        if (self.lower is None) != (self.upper is None):
            raise ValueError("give both lower and upper domain bounds, or neither")
        if self.lower is not None:
            lo = torch.as_tensor(self.lower)
            hi = torch.as_tensor(self.upper)
            if lo.shape != hi.shape or lo.ndim != 1:
                raise ValueError(f"bounds must be 1-D of equal length, got {lo.shape}, {hi.shape}")
            if bool((lo > hi).any()):
                raise ValueError(f"lower bound above upper bound at features {_where(lo > hi)}")
            object.__setattr__(self, "lower", lo)
            object.__setattr__(self, "upper", hi)

    @classmethod
    def from_immutable(
        cls,
        n_features: int,
        immutable: Sequence[int] = (),
        lower: torch.Tensor | None = None,
        upper: torch.Tensor | None = None,
    ) -> Constraints:
        """The paper's protection experiments: listed features immutable, the rest free.

        ``immutable`` holds feature indices in ``0..n_features-1``; one outside (a negative
        index too, which would silently freeze a feature counted from the end) is an error.
        """
        if not all(_is_index(i, n_features) for i in immutable):
            raise ValueError(
                f"immutable (protected) feature indices {list(immutable)} are not allowed; "
                f"expected integers in 0..{n_features - 1} ({n_features} features)"
            )
        mut = ["both"] * n_features
        for i in immutable:
            mut[i] = "none"
        return cls(lower=lower, upper=upper, mutability=tuple(mut) if immutable else None)

    def unbounded(self) -> Constraints:
        """The same mutability without domain bounds: the search's domain clamp is off
        (``search(..., domain_bound=False)``, ``TrainingConfig.domain_bound``; method §4.5)."""
        return Constraints(mutability=self.mutability)

    @property
    def n_features(self) -> int | None:
        if self.mutability is not None:
            return len(self.mutability)
        return None if self.lower is None else int(self.lower.numel())

    @cached_property
    def _masks(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        kinds = self.mutability or ()
        return tuple(
            torch.tensor([m == kind for m in kinds], dtype=torch.bool)
            for kind in ("none", "increase", "decrease")
        )

    def masks(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Boolean ``(D,)`` masks (frozen, increase-only, decrease-only) on ``like``'s device."""
        return tuple(m.to(like.device) for m in self._masks)

    @cached_property
    def _present(self) -> frozenset[str]:
        return frozenset(self.mutability or ())

    def project_step(self, delta: torch.Tensor) -> torch.Tensor:
        """Mutability projection of a finite step ``delta: (N, D)`` (method §2.1).

        Only the kinds present are applied; immutable coordinates are zeroed by a
        multiplicative mask, cheaper than a select on large tensors.
        """
        if self.mutability is None:
            return delta
        self._check_width(delta)
        frozen, inc, dec = self.masks(delta)
        if "none" in self._present:
            delta = delta * (~frozen).to(delta.dtype)
        if "increase" in self._present:
            delta = torch.where(inc, delta.clamp(min=0), delta)
        if "decrease" in self._present:
            delta = torch.where(dec, delta.clamp(max=0), delta)
        return delta

    def clamp(self, x: torch.Tensor, before: torch.Tensor | None = None) -> torch.Tensor:
        """Clamp ``x: (N, D)`` into the domain.

        ``before``: the ``(N, D)`` state that the projected step ``x − before`` started from.
        Mutability then wins over the domain: an immutable feature keeps its value, an
        increase-only one never ends below it, a decrease-only one never above it, even
        where ``before`` lies outside the domain (the reference's clamp would move them;
        a documented deviation, deviations §12.1).
        """
        if self.lower is None:
            return x
        self._check_width(x)
        lo = self.lower.to(device=x.device, dtype=x.dtype)
        hi = self.upper.to(device=x.device, dtype=x.dtype)
        out = torch.clamp(x, lo, hi)
        if before is None or self.mutability is None:
            return out
        frozen, inc, dec = self.masks(x)
        if "none" in self._present:
            out = torch.where(frozen, before, out)
        if "increase" in self._present:
            out = torch.where(inc, torch.maximum(out, before), out)
        if "decrease" in self._present:
            out = torch.where(dec, torch.minimum(out, before), out)
        return out

    def _check_width(self, x: torch.Tensor) -> None:
        if x.shape[-1] != self.n_features:
            raise ValueError(
                f"constraints describe {self.n_features} features, tensor has {x.shape[-1]}"
            )


def _is_index(i: object, n: int) -> bool:
    return isinstance(i, Integral) and not isinstance(i, bool) and 0 <= i < n


def _where(mask: torch.Tensor) -> list[int]:
    return mask.nonzero().flatten().tolist()
