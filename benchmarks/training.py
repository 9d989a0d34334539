"""Wall time of one full CT training versus vanilla training (issue 4).

100 epochs with the final hyperparameters of method §0 on ``moons`` (3000 train points,
batch 30, 1000 CEs per epoch) and ``adult`` (25 049 train points, batch 1000, 5000 CEs
per epoch), MLP 1×32. Targets on 2 CPU cores: a synthetic CT model in under 20 s (the
reference: about 6 CPU-minutes per synthetic model) and CT at most 4× vanilla on moons.
Each figure is the fastest of ``--repeats`` runs; one short warm-up run comes first.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from benchmarks._common import write_result
from cftrain.data import load
from cftrain.experiment import DEVICES, resolve_device, train_cell
from cftrain.training import final_config


def _train_seconds(data, objective: str, nepochs: int, device: torch.device) -> float:
    config = dataclasses.replace(final_config(data.name, objective), nepochs=nepochs)
    start = time.perf_counter()
    train_cell(data, config, device=device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (tiny tensors: 1)"
    )
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    figures: dict[str, float] = {}
    for name in ("moons", "adult"):
        data = load(name)
        _train_seconds(data, "full", 2, device)  # warm-up
        for objective, label in (("full", "ct"), ("vanilla", "vanilla")):
            runs = [
                _train_seconds(data, objective, args.epochs, device) for _ in range(args.repeats)
            ]
            figures[f"{label}_seconds_{name}"] = min(runs)
            print(f"{name} {objective}: {min(runs):.1f} s", flush=True)
        if name == "moons":
            figures["ct_vs_vanilla_moons"] = (
                figures["ct_seconds_moons"] / figures["vanilla_seconds_moons"]
            )
    print(write_result("training", figures, device=str(device)))


if __name__ == "__main__":
    main()
