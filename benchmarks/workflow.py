"""Wall time of the Snakemake workflow (issue 14): the smoke scale, the full paper, job counts.

``--what smoke`` (default) times ``snakemake --cores all --config scale=smoke`` from an empty
working directory (raw data from the mirror); ``--what paper`` times the default
``snakemake --cores all`` (the paper: single, mutability, ablation on nine datasets) from raw
data to every table, in ``--workdir`` (kept, so a run can be inspected or resumed). Both
also record ``jobs_full``, the job count of the full config (a dry run). Figures already in
``results/workflow.json`` are kept, so the two measurements can be taken separately.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import RESULTS, write_result

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile")]
    return subprocess.run(
        [*command, "--directory", str(workdir), *args],
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def count_jobs(workdir: Path, *config: str) -> int:
    """Total jobs of a dry run from an empty working directory."""
    out = snakemake(workdir, "-n", *config, capture=True).stdout
    return int(re.search(r"^total\s+(\d+)$", out, re.MULTILINE).group(1))


def timed(workdir: Path, *config: str) -> float:
    start = time.perf_counter()
    snakemake(workdir, "--cores", "all", *config)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", choices=("smoke", "paper"), default="smoke")
    parser.add_argument("--workdir", type=Path, help="working directory (default: a temp one)")
    args = parser.parse_args()
    previous = RESULTS / "workflow.json"
    figures = json.loads(previous.read_text())["figures"] if previous.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        figures["jobs_full"] = count_jobs(Path(tmp))
        workdir = args.workdir or Path(tmp) / args.what
        workdir.mkdir(parents=True, exist_ok=True)
        config = ("--config", "scale=smoke") if args.what == "smoke" else ()
        figures[f"{args.what}_seconds"] = timed(workdir, *config)
    print(write_result("workflow", figures), figures)


if __name__ == "__main__":
    main()
