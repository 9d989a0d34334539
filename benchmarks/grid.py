"""Issue 25's grid figures that one process can measure (``benchmarks/results/grid.json``).

``batched_speedup_k96``: 96 moons ECCo cells of the initial grid (λ_cost × λ_energy ×
max_iter) trained as one batch against the same engine one cell at a time, in this process,
per cell-epoch (``--epochs`` epochs each; ``--alone`` of the cells are timed alone: the
one-at-a-time cost does not depend on the batch). ``job_startup_seconds``: a
``cftrain train-batch`` process, from its start to its first optimiser epoch (the median of
``--repeats`` runs), and whether it imported ``torch._dynamo`` or pandas by then.

The end-to-end figures (``initial_grid_seconds``, ``paper_seconds``,
``appendix_grids_seconds``) come from whole Snakemake runs: ``benchmarks.workflow``.
Run: ``python -m benchmarks.grid [--what speedup startup] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks._common import RESULTS, write_result
from benchmarks.batch_size import cells
from cftrain import data
from cftrain.allocator import keep_freed_memory
from cftrain.experiment import DEVICES, resolve_device
from cftrain.training import train_cells

ROOT = Path(__file__).resolve().parents[1]

#: Runs inside the timed job process: stop it at its first optimiser epoch and report the
#: seconds since the parent started it and which heavy modules were imported by then.
_PROBE = """
import os, sys, time
import cftrain.training as training
def _first_epoch(*args, **kwargs):
    print(json.dumps({"seconds": time.time() - float(os.environ["T0"]),
                      "dynamo": "torch._dynamo" in sys.modules,
                      "pandas": "pandas" in sys.modules}), flush=True)
    os._exit(0)
import json
training.update_epoch = _first_epoch
from cftrain.pipeline.cli import main
sys.argv = ["cftrain", *sys.argv[1:]]
main()
"""


def speedup(epochs: int, k: int, alone: int, device: torch.device) -> dict[str, float]:
    """Seconds per cell-epoch alone and batched, and their ratio, with the allocator tuned
    as a ``cftrain`` job tunes it; the batched run once more before the tuning."""
    ds = data.load("moons")

    def on_device(batch):
        for c in batch:
            c.model.to(device)
        return batch

    def batched_run() -> tuple[float, int]:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.perf_counter()
        train_cells(on_device(cells(ds, k, epochs, "moons")), ds, quiet=True)
        seconds = (time.perf_counter() - start) / k / epochs
        return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults

    train_cells(on_device(cells(ds, 2, 1, "moons")), ds, quiet=True)  # warm-up
    untuned, untuned_faults = batched_run()
    if not keep_freed_memory():
        raise SystemExit("benchmarks.grid: this process's allocator is not glibc's")
    batched, faults = batched_run()
    start = time.perf_counter()
    for c in on_device(cells(ds, alone, epochs, "moons")):
        train_cells([c], ds, quiet=True)
    one = (time.perf_counter() - start) / alone / epochs
    print(f"per cell-epoch: alone {one:.4f} s, batched (K={k}) {batched:.4f} s", flush=True)
    return {
        f"batched_speedup_k{k}": one / batched,
        "seconds_per_cell_epoch_alone": one,
        f"seconds_per_cell_epoch_k{k}": batched,
        f"seconds_per_cell_epoch_k{k}_untuned_allocator": untuned,
        f"page_faults_k{k}": faults,
        f"page_faults_k{k}_untuned_allocator": untuned_faults,
        "epochs": epochs,
    }


def _spec(folder: Path) -> Path:
    """A one-cell moons experiment's spec file, as the workflow's ``spec`` rule writes it."""
    from cftrain.pipeline import config as cfg

    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    raw = {
        "datasets": ["moons"],
        "seeds": [0],
        "tables": ["accuracy"],
        "train": {"fixed": {"nepochs": 2}, "grid": {"objective": ["full"]}},
    }
    exp = cfg.Experiment("startup", cfg.validate(raw, schema, "benchmark"))
    return cfg.write_spec(exp, folder / "startup.json"), exp.cells[0].id


def startup(repeats: int, device: str) -> dict[str, float]:
    """Median seconds from a job process's start to its first training epoch."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        spec, cell = _spec(Path(tmp))
        for i in range(repeats):
            args = ["train-batch", "--spec", str(spec), "--dataset", "moons",
                    "--batch", "b000", "--cell", cell, "--seed", "0",
                    "--out", f"{tmp}/out{i}", "--checkpoint", f"{tmp}/ckpt{i}",
                    "--threads", "1", "--device", device]  # fmt: skip
            env = {**os.environ, "T0": repr(time.time())}
            done = subprocess.run(
                [sys.executable, "-c", _PROBE, *args], env=env, capture_output=True, text=True
            )
            if done.returncode:
                raise SystemExit(f"benchmarks.grid: the job failed:\n{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(runs[-1], flush=True)
    return {
        "job_startup_seconds": statistics.median(r["seconds"] for r in runs),
        "job_startup_imports_dynamo": float(any(r["dynamo"] for r in runs)),
        "job_startup_imports_pandas": float(any(r["pandas"] for r in runs)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", nargs="+", choices=("speedup", "startup"),
                        default=["speedup", "startup"])  # fmt: skip
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--k", type=int, default=96)
    parser.add_argument("--alone", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", choices=DEVICES, default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = resolve_device(args.device)
    path = RESULTS / "grid.json"
    figures = json.loads(path.read_text())["figures"] if path.exists() else {}
    if "speedup" in args.what:
        figures.update(speedup(args.epochs, args.k, args.alone, device))
    if "startup" in args.what:
        figures.update(startup(args.repeats, device.type))
    print(write_result("grid", figures, device=str(device)))


if __name__ == "__main__":
    main()
