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
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks._common import RESULTS, write_result
from benchmarks.workflow import ROOT, timed

CONFIG = ("--configfile", str(ROOT / "config" / "reproduction.yaml"))
STAGES = {
    "paper": (),
    "seeds": (*CONFIG, "--config", "experiments=[single,mutability,ablation]"),
    "initial_grid": CONFIG,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--what", choices=tuple(STAGES), required=True)
    parser.add_argument("--workdir", type=Path, default=ROOT, help="default: the repository")
    args, snakemake_args = parser.parse_known_args()
    previous = RESULTS / "reproduction.json"
    figures = json.loads(previous.read_text())["figures"] if previous.is_file() else {}
    workflow = RESULTS / "workflow.json"
    if "paper_seconds" not in figures and workflow.is_file():
        figures["paper_seconds"] = json.loads(workflow.read_text())["figures"]["paper_seconds"]
    figures[f"{args.what}_seconds"] = timed(args.workdir, *STAGES[args.what], *snakemake_args)
    print(write_result("reproduction", figures), figures)


if __name__ == "__main__":
    main()
