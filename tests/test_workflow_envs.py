"""The conda environments of the rules pin what pyproject.toml pins (issue 14 §6).

Conda channels are not reachable here, so the files are checked for consistency, not solved.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        name, sep, version = req.partition("==")
        if sep:
            pins[name.strip().lower()] = version.strip()
    return pins


@pytest.mark.parametrize("env", ["cftrain.yaml", "cftrain-gpu.yaml"])
def test_env_pins_equal_pyproject(env):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = _pins(project["dependencies"])
    spec = yaml.safe_load((ROOT / "envs" / env).read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    assert _pins(pip) == expected
    assert "-e .." in pip  # the package itself, from the repository root
    python = next(d for d in spec["dependencies"] if str(d).startswith("python="))
    assert project["requires-python"] == ">=3.11" and python == "python=3.11"
