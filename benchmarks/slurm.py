"""Wall time of the smoke workflow through a real one-node Slurm versus locally (issue 16).

Both runs use the same config and seed on this machine's 2 cores: locally with `--cores 2`,
through Slurm with profiles/slurm as shipped (grouping on) plus the test overlay (fast
polling). Brings the test cluster up (tests/cluster/slurm.sh; root, Debian) and down again
unless it was up already.
Also counts the Slurm jobs a run submits without grouping, from its dry run, and records the
1-minute load average before and after (other work on the machine slows both runs unevenly).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import write_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from slurm_workflow import SLURM_SH, cluster_state, is_local, job_counts, snakemake

SMOKE = ("--config", "scale=smoke")


def timed_smoke(workdir: Path, profile: str | None):
    start = time.perf_counter()
    run = snakemake(workdir, *SMOKE, profile=profile, timeout=1800)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"smoke run (profile={profile}) failed:\n{run.output[-5000:]}")
    return run, seconds


def main() -> None:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        _, local_seconds = timed_smoke(tmp_path / "local", None)
        started = cluster_state() != "idle gpu:1"  # up already (e.g. make test-slurm): keep it
        if started:
            subprocess.run([SLURM_SH, "up"], check=True)
        try:
            run, slurm_seconds = timed_smoke(tmp_path / "slurm", "slurm")
            submitted = len(run.slurm_jobs())
            dry = snakemake(tmp_path / "dry", *SMOKE, "--dry-run", profile="slurm")
        finally:
            if started:
                subprocess.run([SLURM_SH, "down"], check=True)
    counts = job_counts(dry)
    ungrouped = sum(n for rule, n in counts.items() if rule != "all" and not is_local(rule))
    figures = {
        "slurm_smoke_seconds": slurm_seconds,
        "local_smoke_seconds": local_seconds,
        "slurm_overhead_ratio": slurm_seconds / local_seconds,
        "slurm_jobs_submitted": submitted,
        "slurm_jobs_without_grouping": ungrouped,
        "slurm_groups": len(re.findall(r"Group job \w+", dry.output)),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }
    print(write_result("slurm", figures))
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")


if __name__ == "__main__":
    main()
