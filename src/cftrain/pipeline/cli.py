"""``cftrain <stage>``: one subcommand per workflow stage, each a thin wrapper over the library.

A Snakemake rule calls exactly one of these; a user without Snakemake can run one job by
hand with the same arguments. A job's ``--spec`` is its experiment's spec file
(``results/specs/<experiment>.json``, written by ``cftrain spec``); the job's coordinates
(dataset, cell, group, protocol, seed) pick its part. ``--threads``
sets torch's threads (the rule's ``threads``); ``--device auto`` uses a GPU when torch sees
one, ``cuda`` without one fails with a clear message. A job refuses a model or evaluation table
whose digest or identity is not the one its spec asks for, naming the file
(:mod:`cftrain.pipeline.artifacts`); with ``--quarantine`` (the workflow's rules) the file is
moved aside to ``<name>.refused``, so the next ``snakemake`` reruns the job that makes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cftrain
from cftrain.experiment import DEVICES
from cftrain.pipeline.config import (
    DATASET_NAMES,
    ID_PREFIX,
    TABLE_INPUTS,
    TABLE_OPTIONS,
    ConfigError,
)
from cftrain.pipeline.reporting import cli as report_cli

DESCRIPTION = """\
One subcommand per workflow stage. Each Snakemake rule runs one of them (its log starts
with the command's context), so a job can be rerun by hand. The jobs of an experiment read
its spec file, results/specs/<experiment>.json (written by `cftrain spec` when the workflow
starts), and pick their part by coordinates, e.g.

  cftrain train --spec results/specs/single.json --dataset moons --cell full --seed 0 \\
      --out results/single/moons/full/seed0

--threads sets torch's threads; --device auto uses a GPU when torch sees one, and cuda
without one fails with a clear message. `cftrain <stage> --help` describes a stage.
"""

_PREFIXES = ", ".join(f"{k} → {v}" for k, v in ID_PREFIX.items() if v)
TRAIN_EPILOG = (
    textwrap.fill(
        "--spec is an experiment as the workflow resolved it (the keys of "
        "config/experiments/*.yaml, workflow/schemas/experiment.schema.yaml); --dataset, --cell "
        "and --seed pick one of its training jobs. A cell id joins the cell's training-grid "
        f"values in grid order, each after its key's short name ({_PREFIXES}; objective and "
        "generator by value alone), e.g. full, vanilla, full_ecco_cost0.001_egy5_T20; an unknown "
        "cell or dataset is refused, naming the experiment's.",
        90,
    )
    + "\n\n"
    + textwrap.fill(
        "Writes model.pt, log.csv and params.json into --out (a folder). A killed job resumes "
        "from its checkpoint in --out; --restart (or CFTRAIN_RESTART=1, which the workflow's "
        "`--config restart=True` sets) starts it over.",
        90,
    )
)


class UsageError(ValueError):
    """A bad command-line argument; ``cftrain`` prints it without a traceback."""


#: errors whose message says all (file, key, value, what is allowed): no traceback
CLEAR_ERRORS: tuple[type[Exception], ...] = (ConfigError, UsageError)


def _spec(text: str, arg: str) -> Any:
    """JSON text, or ``@path`` to a JSON file; a parse error names ``arg``."""
    where = arg
    if text.startswith("@"):
        where = f"{arg} {text}"
        try:
            text = Path(text[1:]).read_text()
        except OSError as err:
            raise UsageError(f"{where}: cannot read the file ({err.strerror})") from None
    try:
        return json.loads(text)
    except ValueError as err:
        raise UsageError(
            f"{where}: not valid JSON ({err}); expected e.g. "
            '\'{"key": "value"}\' (double quotes) or @file.json'
        ) from None


def _object(value: Any, arg: str) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{arg}: expected a JSON object {{...}}, got a {type(value).__name__}")
    return value


def _writable(path: Path, arg: str, folder: bool) -> Path:
    """``path`` can be written as a file (or a folder): it is not the other kind already,
    and no parent of it is a file."""
    kind = "a folder" if folder else "a file"
    if path.exists() and path.is_dir() != folder:
        raise UsageError(f"{arg} {path}: is {'a file' if folder else 'a folder'}; expected {kind}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{arg} {path}: {parent} is a file, so {kind} cannot go there")
            break
    return path


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

    summary = data_job(args.dataset, _writable(args.out, "--out", folder=False), args.mirror)
    return f"dataset {summary['dataset']}: sizes {summary['sizes']}"


def cmd_spec(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import checked_experiment, write_spec

    spec = _object(_spec(args.json, "--json"), "--json")
    experiment = checked_experiment(args.experiment, spec, "--json")
    out = _writable(args.out, "--out", folder=False)
    return f"spec of {experiment.name} → {write_spec(experiment, out)}"


def cmd_train(args: argparse.Namespace) -> str:
    from cftrain.checkpoint import RESTART_HINT, CheckpointError
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import train_job

    spec = read_spec(args.spec).training(args.dataset, args.cell, args.seed)
    out = _writable(args.out, "--out", folder=True)
    try:
        return train_job(spec, out, args.device, restart=args.restart)
    except CheckpointError as err:
        hint = (
            "delete it, or start the cell over with `cftrain train ... --restart` (the "
            "workflow: `--config restart=True`)"
        )
        raise UsageError(str(err).replace(RESTART_HINT, hint)) from None
    except CLEAR_ERRORS:
        raise
    except Exception:
        traceback.print_exc()
        where = f"{spec['experiment']}/{spec['dataset']}/{spec['cell']}"
        raise SystemExit(f"cftrain train: cell {where} seed {spec['seed']} failed") from None


def _once(pairs: list[tuple[str, str]], option: str) -> dict[str, str]:
    """``CELL=PATH`` pairs as a dict; a cell named twice is an error, not the last one wins."""
    cells = [c for c, _ in pairs]
    twice = sorted({c for c in cells if cells.count(c) > 1})
    if twice:
        raise UsageError(f"{option} names cells {twice} more than once")
    return dict(pairs)


def _expected_model(exp: Any, dataset: str) -> Callable[[str, int], dict]:
    """(cell, seed) → the identity of ``exp``'s model; a cell the experiment lacks is refused."""
    from cftrain.pipeline.artifacts import expected_model
    from cftrain.pipeline.config import ConfigError

    def expected(cell: str, seed: int) -> dict:
        try:
            return expected_model(exp, dataset, cell, seed)
        except ConfigError as err:
            raise ValueError(f"a model of {err}") from None

    return expected


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

    exp = read_spec(args.spec)
    spec = exp.evaluation(args.dataset, args.group, args.protocol)
    models = _once(args.model, "--model")
    expected = {c: _expected_model(exp, args.dataset)(c, args.seed) for c in spec["cells"]}
    reuse = _once(args.reuse, "--reuse")
    out = _writable(args.out, "--out", folder=False)
    return evaluate_job(spec, models, out, args.seed, args.device, reuse, expected)


def cmd_performance(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import performance_job

    exp = read_spec(args.spec)
    expected = _expected_model(exp, args.dataset)
    out = _writable(args.out, "--out", False)
    return performance_job(exp.performance(args.dataset), args.models, out, args.device, expected)


def cmd_ig(args: argparse.Namespace) -> str:
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.jobs import ig_job

    exp = read_spec(args.spec)
    expected = _expected_model(exp, args.dataset)
    out = _writable(args.out, "--out", False)
    return ig_job(exp.performance(args.dataset), args.models, out, args.device, expected)


def cmd_aggregate(args: argparse.Namespace) -> str:
    from cftrain.pipeline.artifacts import expected_evaluations
    from cftrain.pipeline.config import read_spec
    from cftrain.pipeline.tables import aggregate, table_options

    inputs = {"evaluations": args.evaluations, "performance": args.performance, "ig": args.ig}
    options = _object(_spec(args.options, "--options"), "--options")
    try:
        options = table_options(options, args.tables)
    except ValueError as err:
        raise UsageError(f"--options: {err}") from None
    out = _writable(args.out_dir, "--out-dir", folder=True)
    expected = expected_evaluations(read_spec(args.spec)) if args.spec else None
    written = aggregate(args.tables, inputs, options, out, expected)
    return f"tables: {', '.join(str(p) for p in written)}"


def cmd_verify(args: argparse.Namespace) -> str:
    from cftrain.pipeline import verify

    outcome = verify.verify_run(args.run, args.record, args.tables, args.out)
    message = verify.summary_line(outcome)
    if args.mode == "strict" and not outcome["passed"]:
        raise SystemExit(f"cftrain verify (strict): {message}; see {args.out}/report.md")
    return message


def cmd_record(args: argparse.Namespace) -> str:
    from cftrain.pipeline import record

    return record.main(args)


def cmd_cross_main(args: argparse.Namespace) -> str:
    from cftrain.pipeline.tables import cross_main, write_table

    csv, _ = write_table("cross_main", cross_main(args.inputs), args.out)
    return f"main table → {csv}"


def cmd_wall_times(args: argparse.Namespace) -> str:
    from cftrain.pipeline.tables import wall_times, write_table

    csv, _ = write_table("wall_times", wall_times(args.inputs, args.root), args.out)
    return f"wall times → {csv}"


def build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="cftrain", description=DESCRIPTION, formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"cftrain {cftrain.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<stage>")

    def add(name: str, func: Callable[[argparse.Namespace], str], help: str, device=True, **kw):
        p = sub.add_parser(name, help=help, description=help, formatter_class=raw, **kw)
        _common(p, device)
        p.set_defaults(func=func)
        return p

    p = add("data", cmd_data, "build one dataset's processed cache (method §4)", device=False)
    p.add_argument("dataset", choices=DATASET_NAMES, help=f"one of: {', '.join(DATASET_NAMES)}")
    p.add_argument("--out", required=True, type=Path, help="summary JSON")
    p.add_argument("--mirror", type=Path, help="raw-file mirror (default $CFTRAIN_DATA_MIRROR)")

    p = add("spec", cmd_spec, "write an experiment's resolved spec file for its jobs", False)
    p.add_argument("--experiment", required=True, help="experiment name")
    p.add_argument("--json", required=True, help="the resolved experiment: JSON or @file.json")
    p.add_argument("--out", required=True, type=Path, help="spec file (JSON)")

    spec_help = "the experiment's spec file (results/specs/<experiment>.json)"
    p = add(
        "train",
        cmd_train,
        "train one grid cell (model.pt, log.csv, params.json)",
        epilog=TRAIN_EPILOG,
    )
    p.add_argument("--spec", required=True, type=Path, help=spec_help)
    p.add_argument("--dataset", required=True, help="one of the experiment's datasets")
    p.add_argument("--cell", required=True, help="cell id (e.g. full, vanilla; see below)")
    p.add_argument("--seed", type=int, required=True, help="training seed")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--restart",
        action="store_true",
        default=os.environ.get("CFTRAIN_RESTART") == "1",
        help="ignore a checkpoint in --out and start over (default: CFTRAIN_RESTART=1)",
    )

    p = add("train-batch", cmd_train_batch, "train grid cells together (issue 25)")
    p.add_argument("--spec", required=True, type=Path, help=spec_help)
    p.add_argument("--dataset", required=True)
    p.add_argument("--batch", required=True, help="batch id (b000, …)")
    p.add_argument("--cell", required=True, action="append", help="cell id, once per cell")
    p.add_argument("--seed", required=True, type=int, action="append", help="its seed")
    p.add_argument("--out", required=True, type=Path, action="append", help="its folder")
    p.add_argument("--checkpoint", required=True, type=Path, help="checkpoint folder")

    p = add("evaluate", cmd_evaluate, "counterfactual benchmark of one cell group (method §5.2)")
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
    _quarantine(p)

    for name, func, help in (
        ("performance", cmd_performance, "accuracy and FGSM/PGD robustness (method §5.4)"),
        ("ig", cmd_ig, "integrated-gradients sensitivity to protected features (method §5.5)"),
    ):
        p = add(name, func, help)
        p.add_argument("--spec", required=True, type=Path, help=spec_help)
        p.add_argument("--dataset", required=True)
        p.add_argument("--models", nargs="+", required=True, help="model folders")
        p.add_argument("--out", required=True, type=Path, help="CSV file")
        _quarantine(p)

    p = add("aggregate", cmd_aggregate, "tables of one experiment (method §5.3, §6)", False)
    p.add_argument(
        "--tables",
        nargs="+",
        required=True,
        choices=list(TABLE_INPUTS),
        metavar="TABLE",
        help=f"one or more of: {', '.join(TABLE_INPUTS)}",
    )
    p.add_argument("--evaluations", nargs="*", default=[], help="evaluation parquet files")
    p.add_argument("--performance", nargs="*", default=[], help="performance.csv files")
    p.add_argument("--ig", nargs="*", default=[], help="ig.csv files")
    p.add_argument(
        "--options",
        default="{}",
        help="table options, JSON or @file.json: "
        + "; ".join(f"{k} (default {v!r})" for k, v in TABLE_OPTIONS.items()),
    )
    p.add_argument("--out-dir", required=True, type=Path, help="<name>.csv and .tex go here")
    p.add_argument("--spec", type=Path, help=f"{spec_help}: check each evaluation's identity")
    _quarantine(p)

    p = add("cross-main", cmd_cross_main, "the main table across experiments", False)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--out", required=True)

    p = add("wall-times", cmd_wall_times, "per-rule wall times from benchmark files", False)
    p.add_argument("--inputs", nargs="+", required=True)
    p.add_argument("--root", required=True, help="folder holding <rule>/<wildcards>.tsv")
    p.add_argument("--out", required=True)

    p = add("verify", cmd_verify, "compare a run's tables with the committed record", False)
    p.add_argument("--run", required=True, help="the run's results root (results[/<scale>])")
    p.add_argument("--record", required=True, help="the record's root (record[/<scale>])")
    p.add_argument("--tables", nargs="+", required=True, help="the run's table CSVs to compare")
    p.add_argument("--mode", choices=("report", "strict"), default="report")
    p.add_argument("--out", required=True, type=Path, help="report.{csv,md,json} go here")

    p = sub.add_parser("record", help="the committed record: pack, unpack, check (issue 24)")
    p.set_defaults(func=cmd_record, threads=1)
    from cftrain.pipeline.record import register as register_record

    register_record(p)
    report_cli.register(sub)  # cftrain report … (issue 15)
    return parser


def _quarantine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quarantine",
        action="store_true",
        help="move a refused input aside (<name>.refused), so the workflow remakes it",
    )


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    import torch

    from cftrain.allocator import keep_freed_memory
    from cftrain.pipeline.artifacts import RefusedArtifact, quarantine
    from cftrain.pipeline.job_context import job_context

    print(f"cftrain: {job_context()}", file=sys.stderr, flush=True)

    torch.set_num_threads(max(1, args.threads))
    keep_freed_memory()
    try:
        print(args.func(args), flush=True)
    except RefusedArtifact as err:  # JobInputError is one: a file not what the job needs
        message = f"cftrain {args.command}: error: {err}"
        if getattr(args, "quarantine", False) and err.path.exists():
            moved = quarantine(err.path)
            message += f"; moved to {moved}, so the next run of the workflow remakes it"
        parser.exit(2, message + "\n")
    except CLEAR_ERRORS as err:
        parser.exit(2, f"cftrain {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
