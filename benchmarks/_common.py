"""Shared pieces of the benchmark scripts: where results go and how they are recorded."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

import torch

from cftrain.atomic import atomic_path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """A one-line description of where the figures were measured."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"Python {platform.python_version()}"
    )


def write_result(
    name: str, figures: dict[str, float], device: str = "cpu", module: str | None = None
) -> Path:
    """Write ``results/<name>.json`` atomically in the brief's format, with the torch device
    the figures were measured on; ``module``: the script's, if not ``benchmarks.<name>``."""
    record = {
        "figures": {k: float(v) for k, v in figures.items()},
        "command": " ".join(["python", "-m", module or f"benchmarks.{name}", *sys.argv[1:]]),
        "machine": machine(),
        "device": device,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = RESULTS / f"{name}.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
    return path
