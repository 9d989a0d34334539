"""Running the workflow through a real Slurm (tests/cluster/slurm.sh) from tests and benchmarks.

Every Snakemake call is bounded by ``timeout -s INT``: on SIGINT Snakemake cancels its Slurm
jobs with scancel and exits, so a hanging status check cannot hang the test suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yte

from cftrain.pipeline import paths

ROOT = Path(__file__).resolve().parents[1]
SLURM_SH = ROOT / "tests" / "cluster" / "slurm.sh"
OVERLAY = ROOT / "tests" / "cluster" / "profile"
BIN = Path(sys.executable).parent
DATA_MIRROR = ROOT.parent / "shared" / "data"
# The workflow's local rules (`localrule: True`, workflow/rules/): the spec, the data and the
# table stage run beside Snakemake itself, never as a Slurm job.
LOCAL_RULES = ("spec", "data", "aggregate", "main_table", "wall_times", "figures", "verify",
               "report", "paper")  # fmt: skip


def is_local(name: str) -> bool:
    """Whether a rule, or the folder or file of its log under ``logs/``, is a local rule's."""
    return name.split(".")[0].startswith(LOCAL_RULES)


@dataclass(frozen=True, order=True)
class SlurmJob:
    """One row of ``squeue --states=all`` for a run."""

    id: int
    state: str
    comment: str  # the plugin's `rule_<rule or group>_...`


@dataclass
class Run:
    """One Snakemake invocation: its exit status, output and (through Slurm) its run id."""

    returncode: int
    output: str
    workdir: Path

    @property
    def slurm_run_id(self) -> str:
        """The plugin's run id, the `--job-name` of every job this run submitted."""
        found = re.findall(r"SLURM run ID: (\S+)", self.output)
        if len(found) != 1:
            raise AssertionError(f"no single 'SLURM run ID' in the output:\n{self.output[-3000:]}")
        return found[0]

    def slurm_jobs(self) -> list[SlurmJob]:
        """Every Slurm job this run submitted, finished ones included (MinJobAge keeps them)."""
        out = subprocess.run(
            ["squeue", "--states=all", "-h", "-n", self.slurm_run_id, "-o", "%i|%T|%k"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        rows = [line.split("|", 2) for line in out.splitlines() if line.strip()]
        return sorted(SlurmJob(int(i), state, comment) for i, state, comment in rows)


def profile_settings(name: str) -> dict:
    """``profiles/<name>/config.yaml`` as Snakemake reads it (the profiles are yte templates)."""
    with open(ROOT / "profiles" / name / "config.yaml") as f:
        return yte.process_yaml(f, require_use_yte=True)


def cluster_state() -> str:
    """``idle gpu:1`` when the test cluster is up and free, else what slurm.sh status says."""
    proc = subprocess.run([SLURM_SH, "status"], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip()


def snakemake(workdir: Path, *args: str, profile: str | None = None, timeout: int = 1800) -> Run:
    """Run the repository's workflow in ``workdir`` (results land there, not in the clone).

    ``profile`` None runs locally on 2 cores; otherwise ``profiles/<profile>`` with the
    test overlay (fast polling, the test node's 2 CPUs) as the workflow profile.
    """
    cmd = [
        "timeout", "-s", "INT", "-k", "120", str(timeout),
        str(BIN / "snakemake"), "--snakefile", str(ROOT / "Snakefile"),
        "--directory", str(workdir),
    ]  # fmt: skip
    if profile is None:
        cmd += ["--cores", "2", "--workflow-profile", "none"]
    else:
        cmd += ["--profile", str(ROOT / "profiles" / profile), "--workflow-profile", str(OVERLAY)]
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": "1",
        "CFTRAIN_DATA_MIRROR": os.environ.get("CFTRAIN_DATA_MIRROR") or str(DATA_MIRROR),
    }
    for key in ("CFTRAIN_SLURM_PARTITION", "CFTRAIN_SLURM_GPU_PARTITION", "CFTRAIN_SLURM_ACCOUNT"):
        env.pop(key, None)  # the test node's default partition, no account (no slurmdbd)
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=env, cwd=workdir, check=False
    )
    return Run(proc.returncode, proc.stdout + proc.stderr, workdir)


def job_counts(run: Run) -> dict[str, int]:
    """Jobs per rule from the 'Job stats' table a (dry) run prints first."""
    block = run.output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", block, flags=re.MULTILINE)
    }


def slurm_job_ids_in_logs(workdir: Path) -> dict[Path, int | None]:
    """The Slurm job id each rule log of the smoke run (results/smoke/logs) records (None: not
    under Slurm)."""
    ids: dict[Path, int | None] = {}
    for log in sorted((workdir / paths.root("smoke") / "logs").rglob("*.log")):
        found = re.search(r"slurm_job_id=(\w+)", log.read_text(errors="replace"))
        ids[log] = int(found.group(1)) if found and found.group(1).isdigit() else None
    return ids
