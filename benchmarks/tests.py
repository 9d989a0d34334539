"""Wall time of the test tiers (issue 28): ``make test`` on a fresh clone, tier by tier.

Clones the repository's committed HEAD into ``--workdir`` (default: a temporary folder), runs
``make setup`` there (not timed: the environment is built once, as CI does), then times what
``make test`` runs, one after the other: ``ruff check``, ``make test-unit``,
``make test-integration`` and ``make test-slurm``. ``make_test_seconds`` is their sum. Time it
on an idle machine: two torch processes on 2 cores slow each other down severalfold. The
clone's ``make`` finds the data mirror through ``CFTRAIN_DATA_MIRROR`` (export it when the
clone has no ``../shared/data`` beside it).
Run: ``python -m benchmarks.tests [--workdir DIR]`` → ``benchmarks/results/tests.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks._common import write_result
from benchmarks.workflow import fresh_clone

#: figure → the make target that ``make test`` runs for it
TIERS = {"unit_seconds": "test-unit", "integration_seconds": "test-integration",
         "slurm_seconds": "test-slurm"}  # fmt: skip


def _make(clone: Path, target: str) -> float:
    """Seconds ``make <target>`` takes in ``clone``; a failing target fails the benchmark."""
    start = time.perf_counter()
    subprocess.run(["make", "-C", str(clone), target], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, help="where to clone (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clone = fresh_clone(args.workdir or Path(tmp) / "clone")
        subprocess.run(["make", "-C", str(clone), "setup"], check=True)
        start = time.perf_counter()
        subprocess.run([str(clone / ".venv/bin/ruff"), "check", "."], cwd=clone, check=True)
        figures = {"ruff_seconds": time.perf_counter() - start}
        for figure, target in TIERS.items():
            figures[figure] = _make(clone, target)
            print(f"{target}: {figures[figure]:.0f} s", flush=True)
        figures["make_test_seconds"] = sum(figures.values())
    print(write_result("tests", figures))


if __name__ == "__main__":
    main()
