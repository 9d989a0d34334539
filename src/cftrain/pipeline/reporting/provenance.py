"""What a reader of committed results needs to know about the run that made them: the
resolved workflow configuration and the versions of the software that computed it."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from cftrain.atomic import atomic_path

#: the distributions whose versions can change a number in the results
PACKAGES = ("cftrain", "torch", "numpy", "pandas", "scipy", "scikit-learn", "snakemake")


def provenance(
    config: Mapping[str, Any], experiments: Sequence[str] | None = None
) -> dict[str, Any]:
    """The resolved ``config`` with the experiments in the run's order (the first experiment
    training a model owns it), Python, platform, machine and package versions."""
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
        "packages": versions,
    }


def write_provenance(
    path: str | Path, config: Mapping[str, Any], experiments: Sequence[str] | None = None
) -> Path:
    record = provenance(config, experiments)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)
