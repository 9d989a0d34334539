"""Running the repository's Snakefile from tests: environment, command, the smoke scale."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_MIRROR = ROOT.parent / "shared" / "data"  # as in conftest.py
SMOKE = ["--config", "scale=smoke"]
TIMEOUT_S = 1800  # a loaded 2-core machine; an idle one needs a few minutes


def run_env(**extra: str) -> dict[str, str]:
    """The test process's environment with the venv's scripts (``cftrain``) on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CFTRAIN_DATA_MIRROR", str(DATA_MIRROR))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("CFTRAIN_DATA_DIR", None)  # each run caches data in its own directory
    env.update(extra)
    return env


def command(workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"),
        "--directory", str(workdir), *args,
    ]  # fmt: skip


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(workdir, *args),
        capture_output=True,
        text=True,
        env=env or run_env(),
        timeout=TIMEOUT_S,
    )


def incomplete(workdir: Path) -> set[str]:
    """Outputs Snakemake marks as incomplete (base64 names in .snakemake/incomplete)."""
    marks = workdir / ".snakemake" / "incomplete"
    return {base64.b64decode(p.name).decode() for p in marks.iterdir()} if marks.is_dir() else set()
