"""Adam over stacked parameters, one independent optimiser per cell (issue 25).

Each cell's slice of every stacked parameter is handed to torch's fused Adam kernel as a
tensor of its own, with its own step count: the kernel treats tensors one by one, so a
cell's update is bitwise that of ``torch.optim.Adam(fused=True)`` on its model alone.
(Fused Adam on a whole stacked tensor would not be: its vector loop and scalar tail
split elements differently, and about 1 in 100 small tensors round differently.) Cells
whose loss was not finite are left out of a step, parameters and state untouched. The
kernel is called directly: ``torch.optim`` would import ``torch._dynamo`` (0.9 s) on
first use.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

BETAS = (0.9, 0.999)
EPS = 1e-8


class CellAdam:
    """Per-cell Adam (β 0.9/0.999, ε 1e-8, no weight decay) on ``params: (K, ...)``.

    lrs: the cells' learning rates; cells sharing one share a kernel call.
    """

    def __init__(self, params: Sequence[torch.Tensor], lrs: Sequence[float]) -> None:
        self.params = list(params)
        self.lrs = [float(lr) for lr in lrs]
        self.grads = [torch.zeros_like(p, memory_format=torch.contiguous_format) for p in params]
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        # fused Adam's step counts are float32 scalars, one per tensor
        device = self.params[0].device
        self.steps = torch.zeros(
            len(self.lrs), len(self.params), dtype=torch.float32, device=device
        )
        self._slices = [
            [[t[k] for t in group] for group in self._buffers()] + [list(self.steps[k])]
            for k in range(len(self.lrs))
        ]
        self._calls: tuple[list[bool], list[tuple[float, list[list[torch.Tensor]]]]] = ([], [])

    def _buffers(self) -> tuple[list[torch.Tensor], ...]:
        return (
            [p.detach() for p in self.params],
            self.grads,
            self.exp_avg,
            self.exp_avg_sq,
        )

    def step(self, grads: Sequence[torch.Tensor], cells: torch.Tensor) -> None:
        """One step of the cells where ``cells: (K,)`` is true, with gradients ``(K, ...)``."""
        for buffer, grad in zip(self.grads, grads, strict=True):
            buffer.copy_(grad)  # contiguous: the CPU kernel misreads strided gradients
        self.steps[cells] += 1
        for lr, (params, grads_, exp_avg, exp_avg_sq, steps) in self._groups(cells.tolist()):
            torch._fused_adam_(
                params,
                grads_,
                exp_avg,
                exp_avg_sq,
                [],
                steps,
                amsgrad=False,
                lr=lr,
                beta1=BETAS[0],
                beta2=BETAS[1],
                weight_decay=0.0,
                eps=EPS,
                maximize=False,
            )

    def _groups(self, chosen: list[bool]) -> list[tuple[float, list[list[torch.Tensor]]]]:
        """The kernel calls' tensor lists for the ``chosen`` cells, one call per lr."""
        if chosen != self._calls[0]:
            by_lr: dict[float, list[int]] = {}
            for k, on in enumerate(chosen):
                if on:
                    by_lr.setdefault(self.lrs[k], []).append(k)
            calls = [
                (lr, [[t for k in ks for t in self._slices[k][i]] for i in range(5)])
                for lr, ks in by_lr.items()
            ]
            self._calls = (chosen, calls)
        return self._calls[1]

    def state(self) -> dict[str, object]:
        return {
            "exp_avg": [t.clone() for t in self.exp_avg],
            "exp_avg_sq": [t.clone() for t in self.exp_avg_sq],
            "steps": self.steps.clone(),
        }

    def load_state(self, state: dict) -> None:
        for mine, saved in zip(self.exp_avg, state["exp_avg"], strict=True):
            mine.copy_(saved)
        for mine, saved in zip(self.exp_avg_sq, state["exp_avg_sq"], strict=True):
            mine.copy_(saved)
        self.steps.copy_(state["steps"])
