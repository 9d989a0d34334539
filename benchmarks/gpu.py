"""The CUDA path of training (issue 25), checked where a GPU is lent: the batched engine on
the GPU for every generator family, with and without mutability constraints, against the
same cells trained one at a time on the GPU and on the CPU; then the grid figures of
:mod:`benchmarks.grid` on the GPU. Writes ``benchmarks/results/gpu.json``.

Run (on a machine with a GPU): ``python -m benchmarks.gpu``.
"""

from __future__ import annotations

import argparse
import dataclasses

import torch

from benchmarks import grid
from benchmarks._common import write_result
from cftrain.constraints import Constraints
from cftrain.models import build
from cftrain.training import Cell, TrainingConfig, train_cells

GENERATORS = ("ecco", "generic", "revise", "omniscient")
#: four cells that differ in every per-cell field the grids vary (seed, τ, T, λs, step size)
CELLS = tuple(
    dict(seed=i + 1, tau=0.5 + 0.1 * i, max_iter=5 + 15 * i, lr=0.01 * (i + 1),
         lambda_cost=10.0 ** -i, lambda_energy=2.5 * i, step_size=0.1 + 0.2 * i)
    for i in range(4)
)  # fmt: skip


def _blobs(n: int = 240) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 2.5 * y[:, None].float()
    return x[:200], y[:200], x[200:], y[200:]


def _cells(base: TrainingConfig, device: torch.device) -> list[Cell]:
    return [
        Cell(f"c{i}", dataclasses.replace(base, **v), build("mlp", 2, 2, seed=i).to(device))
        for i, v in enumerate(CELLS)
    ]


def _max_diff(a, b) -> float:
    return max(
        (p.detach().cpu() - q.detach().cpu()).abs().max().item()
        for ra, rb in zip(a, b, strict=True)
        for p, q in zip(ra.model.parameters(), rb.model.parameters(), strict=True)
    )


def families(device: torch.device) -> dict[str, float]:
    """Per family and mutability: batch vs alone on the GPU, and GPU vs CPU alone."""
    out: dict[str, float] = {}
    for generator in GENERATORS:
        for protect in (False, True):
            base = TrainingConfig(nepochs=3, batch_size=30, nce=80, generator=generator,
                                  protect_immutable=protect)  # fmt: skip
            constraints = Constraints(mutability=("none", "both")) if protect else None
            kw = {"constraints": constraints, "quiet": True}
            together = train_cells(_cells(base, device), _blobs(), **kw)
            alone = [train_cells([c], _blobs(), **kw)[0] for c in _cells(base, device)]
            cpu = [train_cells([c], _blobs(), **kw)[0] for c in _cells(base, torch.device("cpu"))]
            key = f"{generator}_{'protected' if protect else 'free'}"
            out[f"{key}_batch_vs_alone_max_diff"] = _max_diff(together, alone)
            out[f"{key}_gpu_vs_cpu_max_diff"] = _max_diff(alone, cpu)
            out[f"{key}_failures"] = float(sum(r.failure is not None for r in together))
            print(key, {k: v for k, v in out.items() if k.startswith(key)}, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--alone", type=int, default=8)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks.gpu: torch sees no GPU on this machine")
    device = torch.device("cuda")
    figures = families(device)
    figures.update(grid.speedup(args.epochs, 96, args.alone, device))
    figures.update(grid.startup(3, "cuda"))
    figures["gpu"] = 1.0
    print(torch.cuda.get_device_name(0), flush=True)
    print(write_result("gpu", figures, device=f"cuda ({torch.cuda.get_device_name(0)})"))


if __name__ == "__main__":
    main()
