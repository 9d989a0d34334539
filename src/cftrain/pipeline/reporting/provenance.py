"""What a reader of committed results needs to know about the run that made them: the
resolved workflow configuration and the versions of the software that computed it."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from cftrain.atomic import atomic_path

#: the distributions whose versions can change a number in the results
PACKAGES = ("cftrain", "torch", "numpy", "pandas", "scipy", "scikit-learn", "snakemake")


def provenance(config: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved ``config`` with Python, platform and package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "config": dict(config),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def write_provenance(path: str | Path, config: Mapping[str, Any]) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(provenance(config), indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)
