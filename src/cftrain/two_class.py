"""Two-class softmax quantities through faster CPU kernels, bitwise as the usual ones.

On the CPU, softmax and log-softmax over a last dimension of two run a per-row loop that
costs more than the rest of a search step (issue 25). The same numbers come from kernels
that vectorise across rows:

* ``softmax(z)[t] ≥ τ`` for τ > 0.5: only rows whose target logit is the larger can reach
  τ, and for them the softmax computes ``1 · (1 / (1 + exp(z_o − z_t)))`` — the very
  expression, with the same vectorised exp, of ``sigmoid(z_t − z_o)``.
* the cross-entropy: log-softmax over the class axis of the transposed ``(C, N)`` layout
  runs the same max, exp-sum, log and subtraction per element, forward and backward.

Both hold only where a kernel never falls back to its scalar tail (another exp): row
counts in whole SIMD chunks (:data:`~cftrain.stacking.ROW_QUANTUM`), and an elementwise
op not split over threads. Elsewhere :func:`reaches` uses the softmax and the callers of
:func:`cross_entropy` the usual kernel. The tests check the equalities on this machine's
kernels (tests/test_two_class.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cftrain.stacking import ROW_QUANTUM

#: TensorIterator splits an elementwise op over threads above this many elements, and a
#: thread's share need not be whole SIMD chunks
_GRAIN = 32768
#: below this many rows the layout change costs more than the per-row loop it saves
#: (measured by benchmarks.grid on one cell's 1,000-factual search)
MIN_ROWS = 4096


def applies(logits: torch.Tensor) -> bool:
    """Whether ``logits (..., N, 2)`` on the CPU have whole SIMD chunks of rows."""
    rows = logits.numel() // logits.shape[-1]
    return logits.shape[-1] == 2 and logits.device.type == "cpu" and rows % ROW_QUANTUM == 0


def reaches(
    logits: torch.Tensor, target: torch.Tensor, tau: float | torch.Tensor, above_half: bool
) -> torch.Tensor:
    """Whether ``softmax(logits)[target] ≥ τ`` per row, decided as the softmax decides it:
    through :func:`leading_probability` where that is bitwise the same (``above_half``: the
    caller knows τ > 0.5 everywhere; :func:`applies`; one thread per elementwise op), else
    through the softmax. τ broadcasts against ``target``."""
    serial = torch.get_num_threads() == 1 or target.numel() <= _GRAIN
    if not (above_half and applies(logits) and serial):
        prob = logits.softmax(dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        return prob >= tau
    z_target = logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    # a target logit of +inf: the softmax gives NaN (inf − inf), the sigmoid 1
    return (leading_probability(logits, target) >= tau) & (z_target != float("inf"))


def leading_probability(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``sigmoid(z_t − z_o)``: bitwise ``softmax(logits)[target]`` where ``z_t ≥ z_o``,
    below 0.5 as that is elsewhere."""
    z = logits[..., 0] - logits[..., 1]
    return torch.where(target == 0, z, -z).sigmoid()


class _ContiguousGrad(torch.autograd.Function):
    """Identity whose gradient is made contiguous: the transposed layout's gradient
    reaches the logits in the layout the usual cross-entropy gives them, so the matrix
    products behind them run the same BLAS calls."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row cross-entropy of ``logits (..., N, 2)`` (:func:`applies` must hold), as
    ``F.cross_entropy`` computes it, through the class-major layout."""
    columns = _ContiguousGrad.apply(logits).reshape(-1, 2).t().unsqueeze(0)
    return F.cross_entropy(columns, y.reshape(1, -1), reduction="none").view(y.shape)
