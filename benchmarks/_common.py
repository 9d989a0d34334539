"""Shared pieces of the benchmark scripts: where results go and how they are recorded."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """A one-line description of where the figures were measured."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )


def write_result(name: str, figures: dict[str, float]) -> Path:
    """Write ``results/<name>.json`` atomically in the brief's format."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "figures": {k: float(v) for k, v in figures.items()},
        "command": " ".join(["python", "-m", f"benchmarks.{name}", *sys.argv[1:]]),
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = RESULTS / f"{name}.json"
    with tempfile.NamedTemporaryFile("w", dir=RESULTS, delete=False, suffix=".tmp") as fh:
        json.dump(record, fh, indent=2)
        fh.write("\n")
    os.replace(fh.name, path)
    return path
