"""``cftrain <stage>``: one subcommand per workflow stage, each a thin wrapper over the library.

A Snakemake rule calls exactly one of these; a user without Snakemake can run one job by
hand with the same arguments. A job's ``--spec`` is its experiment's spec file
(``results/specs/<experiment>.json``, written by ``cftrain spec``); the job's coordinates
(dataset, cell, group, protocol, seed) pick its part. ``--threads``
sets torch's threads (the rule's ``threads``); ``--device auto`` uses a GPU when torch sees
one, ``cuda`` without one fails with a clear message.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cftrain.experiment import DEVICES
from cftrain.pipeline.reporting import cli as report_cli


def _spec(text: str) -> Any:
    """JSON text, or ``@path`` to a JSON file."""
    if text.startswith("@"):
        text = Path(text[1:]).read_text()
    return json.loads(text)


def _pair(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected CELL=DIR, got {text!r}")
    return name, path


def _common(parser: argparse.ArgumentParser, device: bool = True) -> None:
    parser.add_argument("--threads", type=int, default=1, help="torch threads (rule's threads)")
    if device:
        parser.add_argument("--device", choices=DEVICES, default="auto")


def cmd_data(args: argparse.Namespace) -> str:
    from cftrain.pipeline.jobs import data_job

    summary = data_job(args.dataset, args.out, args.mirror)
    return f"dataset {summary['dataset']}: sizes {summary['sizes']}"


def cmd_spec(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import Experiment, write_spec

    experiment = Experiment(args.experiment, _spec(args.json))
    return f"spec of {experiment.name} → {write_spec(experiment, args.out)}"


def cmd_train(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import train_job

    spec = read_spec(args.spec).training(args.dataset, args.cell, args.seed)
    try:
        return train_job(spec, args.out, args.device)
    except Exception:
        traceback.print_exc()
        where = f"{spec['experiment']}/{spec['dataset']}/{spec['cell']}"
        raise SystemExit(f"cftrain train: cell {where} seed {spec['seed']} failed") from None


def cmd_train_batch(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import BatchFailure, train_batch_job

    if not (len(args.cell) == len(args.seed) == len(args.out)):
        raise SystemExit("cftrain train-batch: give one --seed and one --out per --cell")
    experiment = read_spec(args.spec)
    specs = [
        experiment.training(args.dataset, c, s) for c, s in zip(args.cell, args.seed, strict=True)
    ]
    try:
        return train_batch_job(specs, args.out, args.checkpoint, args.batch, args.device)
    except BatchFailure as err:
        raise SystemExit(f"cftrain train-batch: {err}") from None
    except Exception:
        traceback.print_exc()
        raise SystemExit(
            f"cftrain train-batch: batch {experiment.name}/{args.dataset}/{args.batch} failed"
        ) from None


def cmd_evaluate(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import evaluate_job

    spec = read_spec(args.spec).evaluation(args.dataset, args.group, args.protocol)
    return evaluate_job(spec, dict(args.model), args.out, args.seed, args.device, dict(args.reuse))


def cmd_performance(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import performance_job

    spec = read_spec(args.spec).performance(args.dataset)
    return performance_job(spec, args.models, args.out, args.device)


def cmd_ig(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import ig_job

    return ig_job(
        read_spec(args.spec).performance(args.dataset), args.models, args.out, args.device
    )


def cmd_aggregate(args: argparse.Namespace) -> str:
    from cftrain.pipeline.tables import aggregate

    inputs = {"evaluations": args.evaluations, "performance": args.performance, "ig": args.ig}
    written = aggregate(args.tables, inputs, _spec(args.options), args.out_dir)
    return f"tables: {', '.join(str(p) for p in written)}"


def cmd_cross_main(args: argparse.Namespace) -> str:
    from cftrain.pipeline.tables import cross_main, write_table

    csv, _ = write_table("cross_main", cross_main(args.inputs), args.out)
    return f"main table → {csv}"


def cmd_wall_times(args: argparse.Namespace) -> str:
    from cftrain.pipeline.tables import wall_times, write_table

    csv, _ = write_table("wall_times", wall_times(args.inputs, args.root), args.out)
    return f"wall times → {csv}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cftrain", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], str], help: str, device=True):
        p = sub.add_parser(name, help=help, description=help)
        _common(p, device)
        p.set_defaults(func=func)
        return p

    p = add("data", cmd_data, "build one dataset's processed cache (SPEC §4)", device=False)
    p.add_argument("dataset")
    p.add_argument("--out", required=True, type=Path, help="summary JSON")
    p.add_argument("--mirror", type=Path, help="raw-file mirror (default $CFTRAIN_DATA_MIRROR)")

    p = add("spec", cmd_spec, "write an experiment's resolved spec file for its jobs", False)
    p.add_argument("--experiment", required=True, help="experiment name")
    p.add_argument("--json", required=True, help="the resolved experiment: JSON or @file.json")
    p.add_argument("--out", required=True, type=Path, help="spec file (JSON)")

    spec_help = "the experiment's spec file (results/specs/<experiment>.json)"
    p = add("train", cmd_train, "train one grid cell (model.pt, log.csv, params.json)")
    p.add_argument("--spec", required=True, type=Path, help=spec_help)
    p.add_argument("--dataset", required=True)
    p.add_argument("--cell", required=True, help="cell id (e.g. full, vanilla)")
    p.add_argument("--seed", type=int, required=True, help="training seed")
    p.add_argument("--out", required=True, type=Path, help="output folder")

    p = add("train-batch", cmd_train_batch, "train grid cells together (issue 25)")
    p.add_argument("--spec", required=True, type=Path, help=spec_help)
    p.add_argument("--dataset", required=True)
    p.add_argument("--batch", required=True, help="batch id (b000, …)")
    p.add_argument("--cell", required=True, action="append", help="cell id, once per cell")
    p.add_argument("--seed", required=True, type=int, action="append", help="its seed")
    p.add_argument("--out", required=True, type=Path, action="append", help="its folder")
    p.add_argument("--checkpoint", required=True, type=Path, help="checkpoint folder")

    p = add("evaluate", cmd_evaluate, "counterfactual benchmark of one cell group (SPEC §5.2)")
    p.add_argument("--spec", required=True, type=Path, help=spec_help)
    p.add_argument("--dataset", required=True)
    p.add_argument("--group", required=True, help="cell group (evaluation.group_by)")
    p.add_argument("--protocol", required=True, help="evaluation protocol name")
    p.add_argument("--model", action="append", type=_pair, required=True, help="CELL=DIR")
    p.add_argument("--seed", type=int, required=True, help="training seed of the models")
    p.add_argument("--out", required=True, type=Path, help="parquet file")
    p.add_argument(
        "--reuse",
        action="append",
        type=_pair,
        default=[],
        help="CELL=PARQUET: copy the cell's rows from an identical earlier evaluation",
    )

    for name, func, help in (
        ("performance", cmd_performance, "accuracy and FGSM/PGD robustness (SPEC §5.4)"),
        ("ig", cmd_ig, "integrated-gradients sensitivity to protected features (SPEC §5.5)"),
    ):
        p = add(name, func, help)
        p.add_argument("--spec", required=True, type=Path, help=spec_help)
        p.add_argument("--dataset", required=True)
        p.add_argument("--models", nargs="+", required=True, help="model folders")
        p.add_argument("--out", required=True, type=Path, help="CSV file")

    p = add("aggregate", cmd_aggregate, "tables of one experiment (SPEC §5.3, §6)", False)
    p.add_argument("--tables", nargs="+", required=True, help="table names")
    p.add_argument("--evaluations", nargs="*", default=[], help="evaluation parquet files")
    p.add_argument("--performance", nargs="*", default=[], help="performance.csv files")
    p.add_argument("--ig", nargs="*", default=[], help="ig.csv files")
    p.add_argument("--options", default="{}", help="table options: JSON or @file.json")
    p.add_argument("--out-dir", required=True, type=Path, help="<name>.csv and .tex go here")

    p = add("cross-main", cmd_cross_main, "the main table across experiments", False)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = add("wall-times", cmd_wall_times, "per-rule wall times from benchmark files", False)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--root", required=True, help="folder holding <rule>/<wildcards>.tsv")
    p.add_argument("--out", required=True)
    report_cli.register(sub)  # cftrain report … (issue 15)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    import torch

    from cftrain.pipeline.job_context import job_context

    print(f"cftrain: {job_context()}", file=sys.stderr, flush=True)

    torch.set_num_threads(max(1, args.threads))
    print(args.func(args), flush=True)


if __name__ == "__main__":
    sys.exit(main())
