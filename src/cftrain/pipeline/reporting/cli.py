"""``cftrain report …``: the report side of the workflow (issue 15).

``build``     macros file, table fragments and the comparison (results/paper/generated/)
``compare``   only the comparison with the published numbers (results/comparison/)
``notebook``  execute one figure notebook, writing its figures
``paper``     latexmk the paper into results/paper/paper.pdf
``pages``     PNG renders of the paper's pages that hold given texts (e.g. captions)

Each handler returns a one-line summary and raises ``SystemExit`` with the message on failure,
so the exit status is non-zero and the message lands in the rule's log.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cftrain.pipeline.reporting import compare, figures, latex, latexmk, report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` and its subcommands to the ``cftrain`` command line."""
    parser = subparsers.add_parser("report", help="macros, tables, figures and the paper PDF")
    sub = parser.add_subparsers(dest="report_command", required=True)

    p = _add(sub, "build", _build, "macros file, table fragments and the comparison")
    p.add_argument("--results", default="results")
    p.add_argument("--datasets-json", required=True, help='{"experiment": ["dataset", ...]}')
    p.add_argument("--out", default="results/paper/generated")
    p.add_argument("--comparison", default="results/comparison")
    p.add_argument("--wall-times", default="results/tables/wall_times.csv")
    p.add_argument("--config-json", default="{}", help="resolved workflow config (appendix)")
    p.add_argument(
        "--variants", nargs="*", default=[], help="benchmarks/results/fidelity-<variant>.csv"
    )
    p.add_argument("--explosions", nargs="*", default=[], help="benchmarks/results/explosions.json")
    p.add_argument("--provenance", help="write the resolved config and package versions here")
    p.add_argument("--verify", help="the run's verify/report.json (its sentence goes in the paper)")
    p.add_argument(
        "--timings",
        nargs="*",
        default=[],
        help="benchmarks/results/{workflow,reproduction}.json: the stages' elapsed times",
    )

    p = _add(sub, "compare", _compare, "comparison with the published numbers (method §6)")
    p.add_argument("--results", default="results")
    p.add_argument("--experiments", nargs="*", required=True)
    p.add_argument("--out", default="results/comparison")

    p = _add(sub, "notebook", _notebook, "execute a figure notebook (jupytext percent format)")
    p.add_argument("notebook")
    p.add_argument("--results", default="results")
    p.add_argument("--datasets-json", required=True, help='{"experiment": ["dataset", ...]}')
    p.add_argument("--figures-dir", default="results/figures")
    p.add_argument("--executed", default=None, help="where to store the executed .ipynb")

    p = _add(sub, "paper", _paper, "build the PDF with latexmk")
    p.add_argument("--tex", default="paper/paper.tex")
    p.add_argument("--out", default="results/paper/paper.pdf")
    p.add_argument("--build-dir", default="results/paper/build")
    p.add_argument("--search", nargs="*", default=["results/paper/generated", "results/figures"])

    p = _add(sub, "pages", _pages, "PNG renders of the pages holding given texts")
    p.add_argument("pdf", nargs="?", default="results/paper/paper.pdf")
    p.add_argument("--out", default="results/paper")
    p.add_argument("--dpi", type=int, default=110)
    p.add_argument(
        "--page",
        action="append",
        default=[],
        metavar="NAME=TEXT",
        help="write <out>/NAME.png of the first page holding TEXT (repeatable)",
    )


def _add(sub, name, func, help):
    p = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func, threads=1)  # threads: the cftrain CLI sets torch's from it
    return p


def _build(args: argparse.Namespace) -> str:
    written = report.build_report(
        args.results,
        json.loads(args.datasets_json),
        args.out,
        args.comparison,
        args.wall_times,
        json.loads(args.config_json),
        args.variants,
        args.provenance,
        args.verify,
        args.timings,
        args.explosions[0] if args.explosions else None,
    )
    return f"report: wrote {len(written)} files under {args.out} and {args.comparison}"


def _compare(args: argparse.Namespace) -> str:
    df = compare.comparison(args.results, args.experiments)
    report.write_csv(Path(args.out) / "comparison.csv", df)
    latex.write(Path(args.out) / "comparison.tex", latex.comparison_tabular(df))
    return f"comparison: {int(df['ours'].notna().sum())} of {len(df)} published cells run"


def _notebook(args: argparse.Namespace) -> str:
    from cftrain.pipeline.reporting import notebook  # jupytext/nbclient: the workflow extra only

    datasets = json.loads(args.datasets_json)
    wanted = figures.expected(datasets, Path(args.notebook).stem)
    params = {
        "results": args.results,
        "datasets": datasets,
        "figures_dir": args.figures_dir,
        "expected_figures": wanted,
    }
    try:
        notebook.run_notebook(args.notebook, params, args.figures_dir, wanted, args.executed)
    except notebook.NotebookError as err:
        raise SystemExit(str(err)) from None
    return f"{args.notebook}: wrote {', '.join(wanted) or 'no figures'}"


def _paper(args: argparse.Namespace) -> str:
    try:
        out = latexmk.build_pdf(args.tex, args.out, args.search, args.build_dir)
    except latexmk.PaperBuildError as err:
        raise SystemExit(str(err)) from None
    return f"paper: {out}"


def _pages(args: argparse.Namespace) -> str:
    wanted = dict(item.split("=", 1) for item in args.page) or latexmk.READER_PAGES
    try:
        written = latexmk.render_pages(args.pdf, wanted, args.out, args.dpi)
    except latexmk.PaperBuildError as err:
        raise SystemExit(str(err)) from None
    return "pages: " + ", ".join(str(p) for p in written)


def main(argv: list[str] | None = None) -> None:
    """Standalone entry (``python -m cftrain.pipeline.reporting``), same as ``cftrain report``."""
    parser = argparse.ArgumentParser(prog="cftrain")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *(argv if argv is not None else sys.argv[1:])])
    print(args.func(args), flush=True)
