"""``cftrain report …``: the report side of the workflow (issue 15).

``build``     macros file, table fragments and the comparison (results/paper/generated/)
``compare``   only the comparison with the published numbers (results/comparison/)
``notebook``  execute one figure notebook, writing its figures
``paper``     latexmk the paper into results/paper/paper.pdf
"""

from __future__ import annotations

import argparse
import json
import sys

from cftrain.reporting import compare, figures, latex, latexmk, notebook, report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report`` and its subcommands to the ``cftrain`` command line."""
    parser = subparsers.add_parser("report", help="macros, tables, figures and the paper PDF")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    sub = parser.add_subparsers(dest="report_command")

    p = sub.add_parser("build", help="macros file, table fragments and the comparison")
    p.add_argument("--results", default="results")
    p.add_argument("--datasets-json", required=True, help='{"experiment": ["dataset", ...]}')
    p.add_argument("--out", default="results/paper/generated")
    p.add_argument("--comparison", default="results/comparison")
    p.add_argument("--benchmarks", default="results/benchmarks")
    p.add_argument("--config-json", default="{}", help="resolved workflow config (appendix)")
    p.set_defaults(func=_build)

    p = sub.add_parser("compare", help="comparison with the published numbers (SPEC §6)")
    _common(p)
    p.add_argument("--out", default="results/comparison")
    p.set_defaults(func=_compare)

    p = sub.add_parser("notebook", help="execute a figure notebook (jupytext percent format)")
    p.add_argument("notebook")
    p.add_argument("--results", default="results")
    p.add_argument("--datasets-json", required=True, help='{"experiment": ["dataset", ...]}')
    p.add_argument("--figures-dir", default="results/figures")
    p.add_argument("--executed", default=None, help="where to store the executed .ipynb")
    p.set_defaults(func=_notebook)

    p = sub.add_parser("paper", help="build the PDF with latexmk")
    p.add_argument("--tex", default="paper/paper.tex")
    p.add_argument("--out", default="results/paper/paper.pdf")
    p.add_argument("--build-dir", default="results/paper/build")
    p.add_argument("--search", nargs="*", default=["results/paper/generated", "results/figures"])
    p.set_defaults(func=_paper)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="results")
    p.add_argument("--experiments", nargs="*", required=True)


def _build(args: argparse.Namespace) -> int:
    config = json.loads(args.config_json)
    report.build_report(
        args.results,
        json.loads(args.datasets_json),
        args.out,
        args.comparison,
        args.benchmarks,
        config,
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    df = compare.comparison(args.results, args.experiments)
    report.write_csv(Path(args.out) / "comparison.csv", df)
    latex.write(Path(args.out) / "comparison.tex", latex.comparison_tabular(df))
    return 0


def _notebook(args: argparse.Namespace) -> int:
    from pathlib import Path

    datasets = json.loads(args.datasets_json)
    name = Path(args.notebook).stem
    wanted = figures.expected(datasets, name)
    params = {
        "results": args.results,
        "datasets": datasets,
        "figures_dir": args.figures_dir,
        "expected_figures": wanted,
    }
    try:
        notebook.run_notebook(args.notebook, params, args.figures_dir, wanted, args.executed)
    except notebook.NotebookError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def _paper(args: argparse.Namespace) -> int:
    try:
        latexmk.build_pdf(args.tex, args.out, args.search, args.build_dir)
    except latexmk.PaperBuildError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (``python -m cftrain.reporting``), same as ``cftrain report``."""
    parser = argparse.ArgumentParser(prog="cftrain")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *(argv if argv is not None else sys.argv[1:])])
    return int(args.func(args) or 0)
