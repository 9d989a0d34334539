"""Issue 25 part 3: time per epoch of one initial-grid batch (LS, ECCo, full: the grid's
λ_cost × λ_energy × max_iter cells) trained stacked at several K, against the same cells
trained one at a time (the K = 1 path a one-cell job takes). Few epochs: the per-epoch cost
is what the batch size changes. Run: python -m benchmarks.batch_size [--epochs N]
[--cells N] → benchmarks/results/batch_size.json."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time

import torch

from benchmarks._common import write_result
from cftrain import data, models
from cftrain.experiment import cell_config
from cftrain.training import Cell, train_cells


def cells(ds, n: int, epochs: int, dataset: str = "lin_sep") -> list[Cell]:
    """``n`` ECCo cells of the initial grid on ``dataset``, cycling through its λ_cost ×
    λ_energy × max_iter values (three seeds)."""
    grid = itertools.product([0.0, 0.001, 0.1], [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 15.0],
                             [20, 50, 100])  # fmt: skip
    out = []
    for i, (cost, energy, t) in enumerate(itertools.islice(itertools.cycle(grid), n)):
        config = cell_config(
            dataset,
            overrides={
                "generator": "ecco",
                "lambda_cost": cost,
                "lambda_energy": energy,
                "max_iter": t,
                "step_size": 0.1,
                "nepochs": epochs,
            },
        )
        config = dataclasses.replace(config, seed=i % 3)
        out.append(Cell(f"c{i}", config, models.build("mlp", ds.n_features, ds.n_classes, seed=0)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cells", type=int, default=96)
    parser.add_argument("--alone", type=int, default=8, help="cells timed one at a time")
    parser.add_argument("--ks", type=int, nargs="+", default=[8, 32, 96])
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = data.load("lin_sep")
    rows = []
    for k in args.ks:
        batch = cells(ds, k, args.epochs)
        start = time.perf_counter()
        train_cells(batch, ds, quiet=True)
        s = time.perf_counter() - start
        rows.append({"k": k, "seconds": s, "seconds_per_cell_epoch": s / k / args.epochs})
        print(rows[-1], flush=True)
    alone = cells(ds, args.alone, args.epochs)
    start = time.perf_counter()
    for c in alone:
        train_cells([c], ds, quiet=True)
    s = time.perf_counter() - start
    rows.append({"k": 1, "seconds": s, "seconds_per_cell_epoch": s / args.alone / args.epochs,
                 "cells": args.alone})  # fmt: skip
    print(rows[-1], flush=True)
    one = rows[-1]["seconds_per_cell_epoch"]
    figures = {"epochs": args.epochs, "cells_alone": args.alone,
               "seconds_per_cell_epoch_alone": one}  # fmt: skip
    for r in rows[:-1]:
        figures[f"seconds_per_cell_epoch_k{r['k']}"] = r["seconds_per_cell_epoch"]
        figures[f"speedup_k{r['k']}"] = one / r["seconds_per_cell_epoch"]
    print(write_result("batch_size", figures))


if __name__ == "__main__":
    main()
