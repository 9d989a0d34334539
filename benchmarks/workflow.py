"""Wall time of the Snakemake workflow (issue 14): the smoke scale, the full paper, job counts.

``--what smoke`` (default) times ``snakemake --cores all --config scale=smoke`` from an empty
working directory (raw data from the mirror); ``--what paper`` times the default
``snakemake --cores all`` (the paper: single, mutability, ablation on nine datasets) from raw
data to every table, in ``--workdir`` (kept, so a run can be inspected or resumed).
``--what fresh_clone_paper`` (issue 24) clones the repository's committed HEAD into
``--workdir`` (default: a temporary folder) and times ``snakemake --cores all`` there with the
clone's own code, as a new user would run it: every model trained from the raw data, the run
checked against the committed record (``results/verify/report.md`` in the clone). All three
also record ``jobs_full``, the job count of the full config (a dry run). Figures already in
``results/workflow.json`` are kept, so the measurements can be taken separately.
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


def snakemake(
    workdir: Path, *args: str, capture: bool = False, repo: Path = ROOT
) -> subprocess.CompletedProcess:
    """``repo``'s workflow run in ``workdir`` with ``repo``'s own code on the path."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if repo != ROOT:
        env["PYTHONPATH"] = str(repo / "src")
    command = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile")]
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


def timed(workdir: Path, *config: str, repo: Path = ROOT) -> float:
    start = time.perf_counter()
    snakemake(workdir, "--cores", "all", *config, repo=repo)
    return time.perf_counter() - start


def fresh_clone(dest: Path) -> Path:
    """``git clone`` of the repository's committed HEAD (no results/, no data cache)."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", choices=("smoke", "paper", "fresh_clone_paper"), default="smoke")
    parser.add_argument("--workdir", type=Path, help="working directory (default: a temp one)")
    args = parser.parse_args()
    previous = RESULTS / "workflow.json"
    figures = json.loads(previous.read_text())["figures"] if previous.is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        figures["jobs_full"] = count_jobs(Path(tmp))
        workdir = args.workdir or Path(tmp) / args.what
        if args.what == "fresh_clone_paper":  # the clone is the working directory
            repo = fresh_clone(workdir)
            figures[f"{args.what}_seconds"] = timed(repo, repo=repo)
        else:
            workdir.mkdir(parents=True, exist_ok=True)
            config = ("--config", "scale=smoke") if args.what == "smoke" else ()
            figures[f"{args.what}_seconds"] = timed(workdir, *config)
    print(write_result("workflow", figures), figures)


if __name__ == "__main__":
    main()
