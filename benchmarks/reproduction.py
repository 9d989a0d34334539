"""Wall time of the full reproduction (issue 17), in the repository's own ``results/``.

``--what seeds`` times ``snakemake --cores all --configfile config/reproduction.yaml`` limited
to the paper's experiments: after a finished default run, that adds training seeds 1–4 of
``single`` and ``mutability`` and everything downstream of them. ``--what initial_grid`` then
times the whole reproduction config, which adds the seed draft's grid. ``paper_seconds`` is
the default ``snakemake --cores all`` from a clean ``results/`` to the PDF: the measurement of
``python -m benchmarks.workflow --what paper`` (copied from ``workflow.json``; ``--what paper``
measures it here instead, in ``--workdir``). Figures already in ``reproduction.json`` are kept.
Further arguments go to Snakemake unchanged (e.g. ``--prioritize FILE…`` to finish some cells
first; it changes the order, not the work).

``--job-files`` runs nothing: it sums the wall times that Snakemake's benchmark files in
``--workdir`` recorded for the stage's jobs (``<what>_job_seconds``). A stage too long for one
sitting (the initial grid: about 900 jobs) is run in parts, so no single stopwatch covers it;
its ``<what>_seconds`` is then its job seconds times the ratio of elapsed to job seconds that
the timed seeds stage measured on the same machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks._common import RESULTS, write_result
from benchmarks.workflow import ROOT, timed
from cftrain.pipeline.tables import wall_times

CONFIG = ("--configfile", str(ROOT / "config" / "reproduction.yaml"))
STAGES = {
    "paper": (),
    "seeds": (*CONFIG, "--config", "experiments=[single,mutability,ablation]"),
    "initial_grid": CONFIG,
}
#: the benchmark files (under results/benchmarks/) of each stage's jobs: the seeds stage adds
#: training and evaluation of seeds 1–4 and reruns the per-dataset robustness and IG jobs
JOB_FILES = {
    "seeds": (
        "train/single/**/seed[1-9]*.tsv",
        "train/mutability/**/seed[1-9]*.tsv",
        "evaluate/single/**/*-seed[1-9]*.tsv",
        "evaluate/mutability/**/*-seed[1-9]*.tsv",
        "performance/single/*.tsv",
        "performance/mutability/*.tsv",
        "ig/mutability/*.tsv",
    ),
    "initial_grid": ("*/initial_grid/**/*.tsv",),
}


def job_seconds(workdir: Path, stage: str) -> float:
    """Σ of the wall seconds in the stage's Snakemake benchmark files."""
    root = workdir / "results" / "benchmarks"
    files = sorted({f for pattern in JOB_FILES[stage] for f in root.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"{root}: no benchmark files of stage {stage!r}")
    return float(wall_times(files, root)["total_seconds"].sum())


def packed(figures: dict[str, float], seconds: float) -> float:
    """Elapsed seconds for ``seconds`` of jobs: the timed seeds stage's ratio of elapsed to job
    seconds on this machine (its parallelism over the cores, its scheduling and serial tail)."""
    if "seeds_seconds" not in figures or "seeds_job_seconds" not in figures:
        raise SystemExit("time the seeds stage and sum its job files first (--what seeds)")
    return seconds * figures["seeds_seconds"] / figures["seeds_job_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", choices=tuple(STAGES), required=True)
    parser.add_argument("--workdir", type=Path, default=ROOT, help="default: the repository")
    parser.add_argument("--job-files", action="store_true", help="sum benchmark files, run nothing")
    args, snakemake_args = parser.parse_known_args()
    previous = RESULTS / "reproduction.json"
    figures = json.loads(previous.read_text())["figures"] if previous.is_file() else {}
    workflow = RESULTS / "workflow.json"
    if "paper_seconds" not in figures and workflow.is_file():
        figures["paper_seconds"] = json.loads(workflow.read_text())["figures"]["paper_seconds"]
    if not args.job_files:
        figures[f"{args.what}_seconds"] = timed(args.workdir, *STAGES[args.what], *snakemake_args)
    elif args.what not in JOB_FILES:
        parser.error(f"--job-files: no job files are known for {args.what!r}")
    else:
        figures[f"{args.what}_job_seconds"] = job_seconds(args.workdir, args.what)
        if args.what != "seeds":
            figures[f"{args.what}_seconds"] = packed(figures, figures[f"{args.what}_job_seconds"])
    print(write_result("reproduction", figures), figures)


if __name__ == "__main__":
    main()
