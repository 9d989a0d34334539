"""What a reader of committed results needs to know about the run that made them: the
resolved workflow configuration and the versions of the software that computed it."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from cftrain.atomic import atomic_path

#: the distributions whose versions can change a number in the results
PACKAGES = ("cftrain", "torch", "numpy", "pandas", "scipy", "scikit-learn", "snakemake")


def hardware() -> dict[str, Any]:
    """The hardware running this process (the paper names the one that built it): CPU model,
    logical cores, memory (GiB) and GPU (its name, or None), from ``/proc`` where there is one."""
    cpu = platform.processor() or platform.machine()
    memory = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    gpu = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": memory, "gpu": gpu}


def hardware_macros(info: Mapping[str, Any]) -> dict[str, str]:
    """``buildCpu``, ``buildCores``, ``buildMemory`` (GiB) and ``buildGpu`` (words)."""
    out = {
        "buildCpu": str(info.get("cpu") or "an unnamed CPU"),
        "buildCores": str(info.get("cores") or "--"),
        "buildGpu": f"a GPU ({info['gpu']})" if info.get("gpu") else "no GPU",
    }
    if info.get("memory_gib") is not None:
        out["buildMemory"] = f"{info['memory_gib']:.0f}"
    return out


def provenance(
    config: Mapping[str, Any], experiments: Sequence[str] | None = None
) -> dict[str, Any]:
    """The resolved ``config`` with the experiments in the run's order (the first experiment
    training a model owns it), Python, platform, machine, hardware and package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    from cftrain.pipeline.job_context import machine

    return {
        "config": dict(config),
        "experiments": list(experiments)
        if experiments is not None
        else [k for k in config if k != "scale"],
        "machine": machine(),  # what `cftrain verify` compares for exactness
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hardware": hardware(),
        "packages": versions,
    }


def write_provenance(
    path: str | Path, config: Mapping[str, Any], experiments: Sequence[str] | None = None
) -> Path:
    record = provenance(config, experiments)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)
