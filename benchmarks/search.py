"""Batched search versus the same engine called once per factual (issue 2).

ECCo, T=30, 5,000 factuals on an MLP of Adult's shape (108 → 32 → 2). The per-factual
loop is timed on a subset and expressed as counterfactuals per second, so both rates
come from one run on the same model and data.
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks._common import write_result
from cftrain.generators import ECCo
from cftrain.models import build
from cftrain.search import search


def _workload(n: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    model = build("mlp", 108, 2, seed=seed)
    # one-hot-like features as in Adult: a few standardised numerics, the rest 0/1
    x = torch.cat([torch.randn(n, 6, generator=g), (torch.rand(n, 102, generator=g) < 0.1)], 1)
    x = x.float()
    with torch.no_grad():
        target = 1 - model(x).argmax(1)
    return model, x, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000, help="factuals in the batched search")
    parser.add_argument("--loop-n", type=int, default=250, help="factuals timed one by one")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model, x, target = _workload(args.n)
    kwargs = dict(generator=ECCo(), tau=0.75, max_iter=30, step_size=0.1)

    search(model, x[:100], target[:100], **kwargs)  # warm-up
    batched = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = search(model, x, target, **kwargs)
        batched.append(time.perf_counter() - start)
    batched_rate = args.n / min(batched)

    start = time.perf_counter()
    for i in range(args.loop_n):
        search(model, x[i : i + 1], target[i : i + 1], **kwargs)
    loop_rate = args.loop_n / (time.perf_counter() - start)

    figures = {
        "batched_cf_per_s": batched_rate,
        "loop_cf_per_s": loop_rate,
        "search_speedup": batched_rate / loop_rate,
        "mean_iterations": float(result.iterations.float().mean()),
        "percent_converged": 100 * float(result.converged.float().mean()),
    }
    path = write_result("search", figures)
    print(path, figures)


if __name__ == "__main__":
    main()
