"""The paper's tables as LaTeX booktabs fragments, written from the aggregated CSVs.

Each function returns the text of one ``tabular`` (the caption lives in the paper source, so
prose and layout stay with the author); cells of datasets or experiments that did not run
are ``--``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from cftrain import sizes
from cftrain.atomic import atomic_path
from cftrain.evaluation import protocol
from cftrain.evaluation.counterfactual_metrics import DEFAULT_IP_SAMPLES
from cftrain.evaluation.divergence import DEFAULT_LENGTH_SCALE, DEFAULT_SUBSAMPLE
from cftrain.evaluation.robustness import EPSILONS, PGD_STEP_SIZE, PGD_STEPS
from cftrain.pipeline.reporting import tables
from cftrain.pipeline.reporting.macros import MISSING, SIG_MARK, fmt
from cftrain.pipeline.reporting.names import METRIC_LABELS, dataset_label, model_label
from cftrain.pipeline.tables import wall_times_per_rule
from cftrain.training_config import FINAL_HYPERPARAMETERS, TrainingConfig

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # non-ASCII characters of config values and descriptions (pdflatex has no Greek in text)
    "λ": r"$\lambda$",
    "τ": r"$\tau$",
    "ε": r"$\varepsilon$",
    "φ": r"$\phi$",
    "σ": r"$\sigma$",
    "×": r"$\times$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "→": r"$\rightarrow$",
    "±": r"$\pm$",
    "–": "--",
    "—": "---",
    "§": r"\S{}",
}


def escape(text: object) -> str:
    """LaTeX-safe text; other non-ASCII characters become ``?`` so pdflatex never stops."""
    return "".join(_ESCAPES.get(ch, ch if ch.isascii() else "?") for ch in str(text))


def tabular(
    header: Sequence[str],
    rows: Iterable[Sequence[str] | None],
    align: str | None = None,
    long: bool = False,
    caption: str = "",
) -> str:
    """A booktabs ``tabular`` (``longtable`` with ``long``, for tables that may span pages;
    ``caption`` = ``"text\\label{…}"`` goes inside it); ``rows`` are already LaTeX; a row
    ``None`` is a midrule."""
    align = align or "l" + "r" * (len(header) - 1)
    env = "longtable" if long else "tabular"
    head = [r"\toprule", " & ".join(header) + r" \\", r"\midrule"]
    lines = [f"\\begin{{{env}}}{{{align}}}"]
    if long:
        # first page: caption + header; later pages: the header again (label defined once)
        lines += [f"\\caption{{{caption}}}\\\\"] if caption else []
        lines += [*head, r"\endfirsthead", *head, r"\endhead"]
    else:
        lines += head
    for row in rows:
        lines.append(r"\midrule" if row is None else " & ".join(row) + r" \\")
    lines += [r"\bottomrule", f"\\end{{{env}}}"]
    return "\n".join(lines) + "\n"


def _reduction_cell(row: pd.Series | None) -> str:
    if row is None or pd.isna(row["value"]):
        return MISSING
    star = SIG_MARK if str(row.get("star")).lower() in ("true", "1", "1.0") else ""
    if pd.isna(row.get("std")):
        return fmt(row["value"]) + star
    return f"{fmt(row['value'])} $\\pm$ {fmt(row['std'])}{star}"


def _datasets(*frames: pd.DataFrame | None) -> list[str]:
    names = pd.concat([f[["dataset"]] for f in frames if f is not None], ignore_index=True)
    return list(tables.dataset_sorted(names.drop_duplicates())["dataset"])


def reduction_tabular(columns: Mapping[str, tuple[pd.DataFrame | None, str]]) -> str:
    """Datasets × metrics of % reductions (the main table and the unconstrained costs).

    columns: header → (reduction table or None, metric).
    """
    frames = [df for df, _ in columns.values()]
    rows: list[Sequence[str] | None] = []
    for data in _datasets(*frames):
        if data == "Avg." and rows:
            rows.append(None)
        cells = []
        for df, metric in columns.values():
            hit = None if df is None else df[(df["dataset"] == data) & (df["metric"] == metric)]
            cells.append(_reduction_cell(None if hit is None or hit.empty else hit.iloc[0]))
        rows.append([escape(dataset_label(data)), *cells])
    return tabular(["Data", *columns], rows)


def main_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    ip = tables.load(results, "main_ip", experiments)
    cost = tables.load(results, "main_cost", experiments)
    return reduction_tabular(
        {
            "IP (\\%)": (ip, "ip"),
            "IP* (\\%)": (ip, "mmd"),
            "Cost (\\%)": (cost, "cost"),
        }
    )


def validity_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    parts = {
        "unconstrained": tables.load(results, "validity_unconstrained", experiments),
        "constrained": tables.load(results, "validity_constrained", experiments),
    }
    datasets = _datasets(*parts.values())
    present = {k: v for k, v in parts.items() if v is not None}
    header = ["Data"] + [f"{model_label(m)} {k}" for k in present for m in ("full", "vanilla")]
    rows: list[Sequence[str] | None] = []
    for data in datasets:
        if data == "Avg." and rows:
            rows.append(None)
        cells = []
        for df in present.values():
            for m in ("full", "vanilla"):
                hit = df[(df["dataset"] == data) & (df["model"] == m)]["validity"]
                cells.append(fmt(hit.iloc[0]) if len(hit) else MISSING)
        rows.append([escape(dataset_label(data)), *cells])
    return tabular(header, rows)


def ig_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    df = tables.load(results, "ig", experiments)
    rows = []
    for data in _datasets(df):
        cells = []
        for m in ("full", "vanilla"):
            hit = df[(df["dataset"] == data) & (df["model"] == m)]
            cells.append(
                MISSING
                if hit.empty
                else f"{fmt(hit['median'].iloc[0])} [{fmt(hit['ci_low'].iloc[0])}, "
                f"{fmt(hit['ci_high'].iloc[0])}]"
            )
        rows.append([escape(dataset_label(data)), *cells])
    return tabular(["Data", "CT", "BL"], rows)


def comparison_tabular(df: pd.DataFrame) -> str:
    """The rows of :func:`cftrain.pipeline.reporting.compare.comparison` that we have run."""
    done = df[df["ours"].notna()]
    rows = [
        [*_compared_cell(r), _yes_no(r.sign_agrees), _yes_no(r.star_agrees), _seeds(r)]
        for r in done.itertuples(index=False)
    ]
    return tabular(
        ["Table", "Data", "Model", "Quantity", "Published", "Ours", "Sign", "Star", "Seeds"],
        rows,
        align="llllrrccr",
        long=True,
        caption="Published cells reproduced in this configuration, next to ours (first training"
        " seed); sign and star: whether the sign of the reduction and its significance agree;"
        " seeds: mean $\\pm$ std over the training seeds and, in parentheses, how many of them"
        " keep the published sign and star.\\label{tab:comparison}",
    )


def disagreements_tabular(df: pd.DataFrame) -> str:
    """The cells whose sign or significance differs from the published one at the first seed,
    or that keep the published sign and star in fewer than all training seeds."""
    done = df[df["ours"].notna()]
    first = (done["sign_agrees"] == False) | (done["star_agrees"] == False)  # noqa: E712
    unstable = (done["n_seeds"] > 1) & (done["n_seeds_agree"] < done["n_seeds"])
    rows = [[*_compared_cell(r), _seeds(r)] for r in done[first | unstable].itertuples(index=False)]
    if not rows:
        agree = "\\emph{Every compared cell agrees in sign and significance.}"
        return agree + "\\label{tab:disagreements}"
    return tabular(
        ["Table", "Data", "Model", "Quantity", "Published", "Ours", "Seeds"],
        rows,
        align="llllrrr",
        long=True,
        caption="Cells whose sign or significance differs from the published one at the first"
        " training seed, or in at least one seed; seeds: mean $\\pm$ std and how many seeds"
        " agree.\\label{tab:disagreements}",
    )


def variants_tabular(paths: Sequence[str | Path]) -> str:
    """The investigation runs (``benchmarks/fidelity.py`` with one option changed): each
    file's cells, ours next to the published value, as the benchmark wrote them."""
    rows: list[Sequence[str] | None] = []
    for path in sorted(map(Path, paths)):
        variant = path.stem.removeprefix("fidelity-").removesuffix("-only")
        if rows:
            rows.append(None)
        for r in pd.read_csv(path).itertuples(index=False):
            rows.append(
                [
                    escape(variant),
                    escape(r.experiment),
                    escape(dataset_label(r.dataset)),
                    escape(r.quantity),
                    escape(str(r.ours)),
                    escape(str(r.published)),
                ]
            )
    if not rows:
        return "\\emph{No investigation runs were recorded.}\\label{tab:variants}"
    return tabular(
        ["Variant", "Experiment", "Data", "Quantity", "Ours", "Published"],
        rows,
        align="llllrr",
        long=True,
        caption="Investigation runs at the paper's sizes, one seed, each with one option changed"
        " (\\texttt{benchmarks/fidelity.py}).\\label{tab:variants}",
    )


def _compared_cell(r: Any) -> list[str]:
    """Table, data, model, quantity, published (``~`` if read off a figure) and ours, with the
    significance mark, of one row of :func:`cftrain.pipeline.reporting.compare.comparison`."""
    published = fmt(r.published) + ("~" if r.approximate else "")
    if str(r.published_star) in ("1", "1.0", "True"):
        published += SIG_MARK
    ours = fmt(r.ours) + (SIG_MARK if str(r.ours_star) in ("True", "1", "1.0") else "")
    return [
        escape(r.table),
        escape(dataset_label(r.dataset)),
        escape(model_label(r.model)),
        escape(METRIC_LABELS.get(r.metric, r.metric)),
        published,
        ours,
    ]


def _seeds(r: Any) -> str:
    """``mean ± std (k/n)`` over the training seeds; empty with a single seed."""
    if pd.isna(r.n_seeds) or r.n_seeds < 2:
        return ""
    kept = "" if pd.isna(r.n_seeds_agree) else f" ({int(r.n_seeds_agree)}/{int(r.n_seeds)})"
    return f"{fmt(r.seeds_mean)} $\\pm$ {fmt(r.seeds_std)}{kept}"


def _yes_no(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return "yes" if bool(value) else "no"


def wall_time_tabular(df: pd.DataFrame) -> str:
    """Per rule (the workflow's ``wall_times.csv`` summed over experiments and datasets)."""
    df = wall_times_per_rule(df)
    rows = [
        [
            escape(r.rule),
            str(int(r.jobs)),
            fmt(r.total_seconds, 1),
            fmt(r.mean_seconds, 1),
            fmt(r.max_seconds, 1),
        ]
        for r in df.itertuples(index=False)
    ]
    if not df.empty:
        rows.append(None)
        rows.append(
            ["total", str(int(df["jobs"].sum())), fmt(df["total_seconds"].sum(), 1), "", ""]
        )
    return tabular(["Rule", "Jobs", "Total (s)", "Mean (s)", "Max (s)"], rows)


def wall_time_by_dataset_tabular(df: pd.DataFrame) -> str:
    """Per experiment and dataset: training and evaluation seconds (every seed and cell), so
    a reader can set them next to the reference's per-dataset cluster times."""
    pivot = df.pivot_table(
        index=["experiment", "dataset"], columns="rule", values="total_seconds", aggfunc="sum"
    ).fillna(0.0)
    jobs = df[df["rule"] == "train"].set_index(["experiment", "dataset"])["jobs"]
    other = [c for c in pivot.columns if c not in ("train", "evaluate")]
    rows = []
    for (experiment, dataset), r in pivot.iterrows():
        rows.append(
            [
                escape(experiment),
                escape(dataset_label(dataset)),
                str(int(jobs.get((experiment, dataset), 0))),
                fmt(r.get("train", 0.0), 1),
                fmt(r.get("evaluate", 0.0), 1),
                fmt(r[other].sum(), 1),
                fmt(r.sum() / 60.0, 1),
            ]
        )
    return tabular(
        # training jobs: since issue 25 a job trains a batch of up to train_batch_size models
        [
            "Experiment",
            "Data",
            "Train jobs",
            "Train (s)",
            "Evaluate (s)",
            "Other (s)",
            "Total (min)",
        ],
        rows,
        align="llrrrrr",
    )


def reported_compute_tabular(df: pd.DataFrame) -> str:
    rows = [[escape(r.stage), escape(r.resources), escape(r.reported)] for r in df.itertuples()]
    return tabular(["Stage (reference)", "Resources", "Reported"], rows, align="lll")


def final_hyperparameters_tabular() -> str:
    """method §0's per-dataset values as the library holds them (``FINAL_HYPERPARAMETERS``)."""
    rows = [
        [escape(dataset_label(d)), str(b), f"{tau:g}", str(nce), f"{reg:g}"]
        for d, (b, tau, nce, reg) in FINAL_HYPERPARAMETERS.items()
    ]
    return tabular(["Data", "Batch", "$\\tau$", "CEs per epoch", "$\\lambda_{reg}$"], rows)


def defaults_tabular() -> str:
    """Every other training default (``TrainingConfig``) and the evaluation protocol's
    constants, so the appendix cannot drift from the code."""
    skip = {"objective", "batch_size", "tau", "nce", "lambda_reg", "seed"}
    rows = [
        [escape(f.name), escape(f.default)] for f in fields(TrainingConfig) if f.name not in skip
    ]
    rows.append(None)
    rows += [
        ["evaluation $\\lambda_{egy}$", ", ".join(f"{v:g}" for v in protocol.LAMBDA_ENERGIES)],
        ["evaluation $\\tau$ (IP, IP*)", f"{sizes.TAU_PLAUSIBILITY:g}"],
        ["evaluation $\\tau$ (cost, protected)", f"{sizes.TAU_MUTABILITY:g}"],
        ["evaluation max\\_iter", str(protocol.EvalSetting(1.0).max_iter)],
        ["IP target draws", str(DEFAULT_IP_SAMPLES)],
        ["IP* length-scale", f"{DEFAULT_LENGTH_SCALE:g}"],
        ["IP* subsample", str(DEFAULT_SUBSAMPLE)],
        ["robustness $\\varepsilon$ grid", f"{len(EPSILONS)} values up to {EPSILONS.max():.2g}"],
        ["PGD steps, step size", f"{PGD_STEPS}, {PGD_STEP_SIZE:g}"],
    ]
    return tabular(["Parameter", "Value"], rows, align="ll")


def config_tabular(config: Mapping) -> str:
    """The resolved workflow configuration, flattened to ``key: value`` rows (appendix)."""
    rows = [[f"\\texttt{{{escape(k)}}}", escape(v)] for k, v in _flatten(config)]
    return tabular(["Configuration key", "Value"], rows, align="lp{0.55\\linewidth}", long=True)


def _flatten(value: object, prefix: str = "") -> list[tuple[str, str]]:
    """``key.sub: value`` rows; descriptions (prose, not settings) are left out."""
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key in value:
            if key == "description":
                continue
            out += _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list | tuple):
        return [(prefix, ", ".join(str(v) for v in value))]
    return [(prefix, str(value))]


def write(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
