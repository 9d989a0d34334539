"""K models of one architecture as one: parameters with a leading cell axis (issue 25).

A batch of cells trains the stacked parameters ``(K, ...)``; each cell's slice is its
model. Two forms, chosen by :func:`stack_models`:

* :class:`StackedMLP` — ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` (the
  project's MLP and linear models): one ``baddbmm`` per layer for all cells. Per cell it
  runs the same BLAS call as ``nn.Linear`` (bitwise equal for ≥ 7 rows, measured on
  MKL) and ReLU is exact, so a cell's numbers do not depend on its batch-mates.
* :class:`LoopedModel` — any other module: each cell's module is called on its slice
  through ``torch.func.functional_call``. Exactly the single-model computation, no
  speed-up; the planner gives such models batches of one.

Both take inputs ``(K, N, D)`` and return logits ``(K, N, C)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from cftrain.modes import DropoutStream

#: rows per cell are padded to a multiple of this: every elementwise kernel then sees
#: whole SIMD chunks (2 × 16 float32 lanes on AVX-512), never a scalar tail whose
#: rounding could differ, so a row's numbers do not depend on how many rows ride along
ROW_QUANTUM = 32
#: ``bmm`` multiplies small matrices (rows · inner · cols < 400) with its own loop, whose
#: rounding differs from BLAS; padded widths stay above that so all calls take BLAS
_SMALL_BMM = 512


class StackedModel:
    """Parameters ``(K, ...)`` of K cells and a forward pass over inputs ``(K, N, D)``."""

    names: list[str]
    params: list[torch.Tensor]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def n_cells(self) -> int:
        return self.params[0].shape[0]

    @property
    def min_rows(self) -> int:
        """Smallest padded row count of a search working set."""
        return ROW_QUANTUM

    def rows(self, n: int) -> int:
        """Padded row count for ``n`` live rows: a multiple of :data:`ROW_QUANTUM`."""
        return max(self.min_rows, -(-n // ROW_QUANTUM) * ROW_QUANTUM)

    def subset(self, cells: torch.Tensor) -> StackedModel:
        """The model of ``cells`` (indices), sharing no autograd history (for sweeps)."""
        raise NotImplementedError

    def write_back(self, k: int, module: nn.Module) -> None:
        """Copy cell ``k``'s parameters into its ``module``."""
        with torch.no_grad():
            for name, p in zip(self.names, self.params, strict=True):
                module.get_parameter(name).copy_(p[k])

    def state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in zip(self.names, self.params, strict=True)}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, p in zip(self.names, self.params, strict=True):
                p.copy_(state[name])


def _stack(modules: Sequence[nn.Module]) -> tuple[list[str], list[torch.Tensor]]:
    names = [n for n, _ in modules[0].named_parameters()]
    for m in modules[1:]:
        shapes = [(n, p.shape) for n, p in m.named_parameters()]
        if shapes != [(n, p.shape) for n, p in modules[0].named_parameters()]:
            raise ValueError("cells of one batch need models of one architecture")
    params = [
        torch.stack([m.get_parameter(n).detach() for m in modules]).requires_grad_() for n in names
    ]
    return names, params


class StackedMLP(StackedModel):
    """Linear layers as ``baddbmm`` on stacked weights ``(K, out, in)``, ReLU between."""

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        self.layers = [isinstance(m, nn.Linear) for m in modules[0]]
        self.sizes = [
            (m.in_features, m.out_features) for m in modules[0] if isinstance(m, nn.Linear)
        ]
        self.names, self.params = _stack(modules)

    @classmethod
    def _from(cls, names: list[str], params: list[torch.Tensor], like: StackedMLP) -> StackedMLP:
        out = cls.__new__(cls)
        out.layers, out.sizes, out.names, out.params = like.layers, like.sizes, names, params
        return out

    @property
    def min_rows(self) -> int:
        smallest = min(i * o for i, o in self.sizes)
        return -(-math.ceil(_SMALL_BMM / smallest) // ROW_QUANTUM) * ROW_QUANTUM

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        params = iter(self.params)
        for linear in self.layers:
            if not linear:
                x = x.relu_()  # in place: the fresh output of the layer before
                continue
            weight, bias = next(params), next(params)
            x = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        return x

    def subset(self, cells: torch.Tensor) -> StackedMLP:
        return StackedMLP._from(self.names, [p.detach()[cells] for p in self.params], self)


class LoopedModel(StackedModel):
    """Any module: cell k's module runs on its inputs with its parameter slices."""

    def __init__(
        self, modules: Sequence[nn.Module], streams: Sequence[DropoutStream] | None = None
    ) -> None:
        self.modules = list(modules)
        self.streams = streams
        self.names, self.params = _stack(modules)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = []
        for k, module in enumerate(self.modules):
            values = {n: p[k] for n, p in zip(self.names, self.params, strict=True)}
            if self.streams is not None and module.training:
                with self.streams[k].active():
                    out.append(functional_call(module, values, (x[k],)))
            else:
                out.append(functional_call(module, values, (x[k],)))
        return torch.stack(out)

    def subset(self, cells: torch.Tensor) -> LoopedModel:
        out = LoopedModel.__new__(LoopedModel)
        out.modules = [self.modules[k] for k in cells.tolist()]
        out.streams = None
        out.names = self.names
        out.params = [p.detach()[cells] for p in self.params]
        return out


def stackable(module: nn.Module) -> bool:
    """Whether ``module`` is an MLP that :class:`StackedMLP` computes bitwise as itself."""
    if not isinstance(module, nn.Sequential) or type(module) is not nn.Sequential:
        return False
    kinds = [type(m) for m in module]
    if not kinds or kinds[0] is not nn.Linear or kinds[-1] is not nn.Linear:
        return False
    if any(k not in (nn.Linear, nn.ReLU) for k in kinds):
        return False
    return all(m.bias is not None for m in module if isinstance(m, nn.Linear))


def stack_models(
    modules: Sequence[nn.Module], streams: Sequence[DropoutStream] | None = None
) -> StackedModel:
    """The stacked form of ``modules`` (one architecture): :class:`StackedMLP` where every
    module is :func:`stackable`, else :class:`LoopedModel` (dropout from ``streams``)."""
    if all(stackable(m) for m in modules):
        return StackedMLP(modules)
    return LoopedModel(modules, streams)
