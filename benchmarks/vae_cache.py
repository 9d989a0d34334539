"""Wall time of one REVISE training cell with and without the VAE cache (``CFTRAIN_VAE_CACHE``).

The cell is one of the initial grid's (method §2.7): circles, the final configuration with REVISE,
λ_cost 0.1, λ_energy 0.5, 20 search steps, step 0.1, 100 epochs. ``uncached`` fits the VAE in
the cell as before the cache; ``cached`` loads the fit that a first cell stored, as every later
REVISE cell of a dataset does in the workflow. Each figure is the fastest of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

import torch

from benchmarks._common import write_result
from cftrain.data import load
from cftrain.experiment import train_cell
from cftrain.training import final_config
from cftrain.vae import CACHE_ENV


def _seconds(data, config) -> float:
    start = time.perf_counter()
    train_cell(data, config, device=torch.device("cpu"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load("circles")
    config = dataclasses.replace(
        final_config("circles", "full"),
        generator="revise",
        lambda_cost=0.1,
        lambda_energy=0.5,
        max_iter=20,
        step_size=0.1,
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        os.environ.pop(CACHE_ENV, None)
        figures["uncached_seconds"] = min(_seconds(data, config) for _ in range(args.repeats))
        os.environ[CACHE_ENV] = cache
        _seconds(data, config)  # the first cell of the dataset fits and stores the VAE
        figures["cached_seconds"] = min(_seconds(data, config) for _ in range(args.repeats))
    figures["cached_vs_uncached"] = figures["cached_seconds"] / figures["uncached_seconds"]
    print(figures)
    print(write_result("vae_cache", figures))


if __name__ == "__main__":
    main()
