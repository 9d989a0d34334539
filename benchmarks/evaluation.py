"""Time to evaluate one dataset at the paper's sizes (issue 5, method §5.2–5.3, §8).

moons, two MLPs, the five ECCo evaluation settings (λ_egy ∈ {0.1, 0.5, 1, 5, 10}, τ 0.95,
T 50), J = 100 runs × 250 individuals: 250,000 counterfactuals with all metrics, written
as parquet and aggregated into the reduction and validity tables. The reference needed 20
CPUs for up to an hour per dataset. The two models are BL and CT trained with the final
hyperparameters (method §0); training them is not timed. A second figure bounds the cost: the
same evaluation with τ = ∞, where every search runs all T = 50 steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from benchmarks._common import write_result
from cftrain.data import load
from cftrain.data.bundle import Dataset
from cftrain.evaluation import (
    benchmark_dataset,
    eval_settings,
    reduction_table,
    validity_table,
    write_parquet,
)
from cftrain.experiment import train_cell
from cftrain.sizes import TAU_PLAUSIBILITY
from cftrain.training import final_config


def _train(data: Dataset, objective: str, epochs: int) -> torch.nn.Module:
    """BL (``vanilla``) or CT (``full``) with the paper's final hyperparameters."""
    config = dataclasses.replace(final_config(data.name, objective), nepochs=epochs)
    return train_cell(data, config).model


def _evaluate(
    data: Dataset, models: dict[str, torch.nn.Module], args: argparse.Namespace, tau: float
) -> tuple[float, pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame]]:
    """Seconds for benchmark → parquet → reduction and validity tables, and the outputs."""
    start = time.perf_counter()
    table = benchmark_dataset(
        data,
        models,
        eval_settings(tau=tau),
        experiment="benchmark",
        n_individuals=args.individuals,
        n_runs=args.runs,
    )
    with tempfile.TemporaryDirectory() as tmp:
        write_parquet(table, Path(tmp) / "moons.parquet")
    reduction = reduction_table(table)
    validity = validity_table(table)
    return time.perf_counter() - start, table, (reduction, validity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--individuals", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=100, help="training epochs of each model")
    args = parser.parse_args()

    data = load("moons")
    models = {objective: _train(data, objective, args.epochs) for objective in ("vanilla", "full")}

    seconds, table, tables = _evaluate(data, models, args, tau=TAU_PLAUSIBILITY)
    seconds_all_steps, full_t, _ = _evaluate(data, models, args, tau=math.inf)

    figures = {
        "eval_seconds_moons": seconds,
        "eval_seconds_moons_all_T_steps": seconds_all_steps,
        "mean_iterations_all_T_steps": float(full_t["iterations"].mean()),
        "counterfactuals": float(len(table)),
        "counterfactuals_per_s": len(table) / seconds,
        "mean_iterations": float(table["iterations"].mean()),
        "validity": float(table["validity"].mean()),
    }
    path = write_result("evaluation", figures)
    print(*(t.to_string() for t in tables), sep="\n")
    print(path, figures)


if __name__ == "__main__":
    main()
