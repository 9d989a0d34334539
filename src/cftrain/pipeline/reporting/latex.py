"""The paper's tables as LaTeX booktabs fragments, written from the aggregated CSVs.

Each function returns the text of one ``tabular`` (the caption lives in the paper source, so
prose and layout stay with the author) or, for tables that may run over a page, one
``longtable`` with its caption and label (these go in the appendix). Cells of datasets or
experiments that did not run are ``--``; negative numbers carry a minus sign, not a hyphen;
rows, columns and quantities carry the paper's names (CT, BL, CD, AR; IP, IP*; λ_div …), never
the code's (:mod:`cftrain.pipeline.reporting.names`).
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
from cftrain.pipeline.booktabs import MISSING, escape, minus, tabular
from cftrain.pipeline.reporting import tables
from cftrain.pipeline.reporting.macros import SIG_MARK, fmt
from cftrain.pipeline.reporting.names import (
    MEAN_LATEX,
    METRIC_LATEX,
    PARAMETER_LABELS,
    TABLE_LABELS,
    TABLE_NAMES,
    dataset_label,
    experiment_label,
    generator_label,
    model_label,
    quantity_label,
)
from cftrain.pipeline.tables import wall_times_per_rule
from cftrain.training_config import FINAL_HYPERPARAMETERS, TrainingConfig

RAGGED = r">{\raggedright\arraybackslash}"  # a text column of a table: no stretched spaces


def num(value: object, digits: int = 2) -> str:
    """:func:`~cftrain.pipeline.reporting.macros.fmt` with a minus sign for a table cell."""
    return minus(fmt(value, digits))


def _group_row(text: str, n_columns: int) -> str:
    """A heading row spanning the table (a group of the long tables)."""
    return rf"\multicolumn{{{n_columns}}}{{l}}{{\emph{{{text}}}}}"


def _is_true(value: object) -> bool:
    return str(value).lower() in ("true", "1", "1.0")


def _reduction_cell(row: pd.Series | None, spread: bool = True) -> str:
    if row is None or pd.isna(row["value"]):
        return MISSING
    star = SIG_MARK if _is_true(row.get("star")) else ""
    if not spread or pd.isna(row.get("std")):
        return num(row["value"]) + star
    return f"{num(row['value'])}{star} {{\\scriptsize $\\pm$ {fmt(row['std'])}}}"


def _datasets(*frames: pd.DataFrame | None) -> list[str]:
    names = pd.concat([f[["dataset"]] for f in frames if f is not None], ignore_index=True)
    return list(tables.dataset_sorted(names.drop_duplicates())["dataset"])


def _published(table: str) -> pd.DataFrame:
    from cftrain.pipeline.reporting.compare import published

    df = published()
    return df[df["table"] == table]


def _published_cell(pub: pd.DataFrame, spread: bool = False, **keys: str) -> str:
    """The published value of one cell (``~`` where read off a figure, ``*`` if starred)."""
    hit = pub
    for key, value in keys.items():
        hit = hit[hit[key] == value]
    if hit.empty or pd.isna(hit["value"].iloc[0]):
        return MISSING
    row = hit.iloc[0]
    text = ("$\\approx$" if _is_true(row["approximate"]) else "") + num(row["value"])
    text += SIG_MARK if _is_true(row["star"]) else ""
    if spread and not pd.isna(row["std"]):
        text += f" {{\\scriptsize $\\pm$ {fmt(row['std'])}}}"
    return text


def reduction_tabular(
    columns: Mapping[str, tuple[pd.DataFrame | None, str, str | None]],
) -> str:
    """Datasets × metrics of % reductions, ours and (where given) the published beside.

    columns: header → (reduction table or None, metric, published table name or None).
    """
    frames = [df for df, _, _ in columns.values()]
    with_pub = [name for name, (_, _, pub) in columns.items() if pub]
    rows: list[Sequence[str] | None] = []
    for data in _datasets(*frames):
        if data == "Avg." and rows:
            rows.append(None)
        cells = []
        for df, metric, pub in columns.values():
            hit = None if df is None else df[(df["dataset"] == data) & (df["metric"] == metric)]
            cells.append(_reduction_cell(None if hit is None or hit.empty else hit.iloc[0]))
            if pub:
                cells.append(_published_cell(_published(pub), dataset=data, metric=metric))
        rows.append([escape(dataset_label(data)), *cells])
    if not with_pub:
        return tabular(["Data", *columns], rows)
    top = ["Data"]
    sub = [""]
    rules = []
    col = 2
    for name, (_, _, pub) in columns.items():
        span = 2 if pub else 1
        top.append(rf"\multicolumn{{{span}}}{{c}}{{{name}}}" if span > 1 else name)
        sub += ["Ours", "Published"] if pub else [""]
        rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
        col += span
    header = " & ".join(top) + r" \\ " + " ".join(rules) + "\n" + " & ".join(sub) + r" \\"
    return tabular(header, rows, width=col - 1)


def main_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    """The main table: % reductions of IP, IP* and the cost with protected features, each
    with the published value beside ours."""
    ip = tables.load(results, "main_ip", experiments)
    cost = tables.load(results, "main_cost", experiments)
    return reduction_tabular(
        {
            "$\\IP$ (\\%)": (ip, "ip", "main"),
            "$\\IPstar$ (\\%)": (ip, "mmd", "main"),
            "Cost (\\%)": (cost, "cost", "main"),
        }
    )


def costs_tabular(costs: pd.DataFrame) -> str:
    """The cost reduction without protected features, the published value beside ours."""
    return reduction_tabular({"Cost (\\%)": (costs, "cost", "costs_unconstrained")})


SETTINGS = {"unconstrained": "No protected features", "constrained": "Protected features"}


def validity_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    """Validity of CT and BL without and with protected features, each beside the published."""
    parts = {
        "unconstrained": tables.load(results, "validity_unconstrained", experiments),
        "constrained": tables.load(results, "validity_constrained", experiments),
    }
    experiment_of = {"unconstrained": "single", "constrained": "mutability"}
    datasets = _datasets(*parts.values())
    present = {k: v for k, v in parts.items() if v is not None}
    pub = _published("validity")
    rows: list[Sequence[str] | None] = []
    for data in datasets:
        if data == "Avg." and rows:
            rows.append(None)
        cells = []
        for setting, df in present.items():
            for m in ("full", "vanilla"):
                hit = df[(df["dataset"] == data) & (df["model"] == m)]["validity"]
                cells.append(num(hit.iloc[0]) if len(hit) else MISSING)
                cells.append(
                    _published_cell(pub, experiment=experiment_of[setting], dataset=data, model=m)
                )
        rows.append([escape(dataset_label(data)), *cells])
    top = ["Data"] + [rf"\multicolumn{{4}}{{c}}{{{SETTINGS[k]}}}" for k in present]
    rules = " ".join(rf"\cmidrule(lr){{{2 + 4 * i}-{5 + 4 * i}}}" for i in range(len(present)))
    sub = [""] + ["CT", "publ.", "BL", "publ."] * len(present)
    header = " & ".join(top) + r" \\ " + rules + "\n" + " & ".join(sub) + r" \\"
    return tabular(header, rows, width=1 + 4 * len(present))


def accuracy_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    """Clean test accuracy of the ``single`` models (first seed) per dataset, with the
    published accuracies read off the robustness figure beside them (real-world data only)."""
    df = tables.load(results, "accuracy_single", experiments)
    pub = _published("robustness")
    pub = pub[pub["metric"] == "fgsm_clean"]
    rows = []
    for data in _datasets(df):
        cells = []
        for m in ("full", "vanilla"):
            hit = df[(df["dataset"] == data) & (df["model"] == m)]["accuracy"]
            cells.append(num(hit.iloc[0]) if len(hit) else MISSING)
        for m in ("full", "vanilla"):
            cells.append(_published_cell(pub, dataset=data, model=m))
        ct, bl = (
            df[df["dataset"] == data].set_index("model")["accuracy"].reindex(["full", "vanilla"])
        )
        cells.append(num(ct - bl))
        rows.append([escape(dataset_label(data)), *cells])
    header = (
        r"Data & \multicolumn{2}{c}{Ours} & \multicolumn{2}{c}{Published} & CT $-$ BL \\ "
        r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" + "\n" + r" & CT & BL & CT & BL & (ours) \\"
    )
    return tabular(header, rows, width=6)


def ig_tabular(results: str | Path, experiments: Sequence[str]) -> str:
    """Median [interval] of the standardised IG on the protected features, the published
    median beside ours."""
    df = tables.load(results, "ig", experiments)
    pub = _published("ig")
    rows = []
    for data in _datasets(df):
        cells = []
        for m in ("full", "vanilla"):
            hit = df[(df["dataset"] == data) & (df["model"] == m)]
            cells.append(
                MISSING
                if hit.empty
                else f"{num(hit['median'].iloc[0])} {{\\scriptsize [{num(hit['ci_low'].iloc[0])}, "
                f"{num(hit['ci_high'].iloc[0])}]}}"
            )
            cells.append(_published_cell(pub, dataset=data, model=m))
        rows.append([escape(dataset_label(data)), *cells])
    header = (
        r"Data & \multicolumn{2}{c}{CT} & \multicolumn{2}{c}{BL} \\ "
        r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" + "\n" + r" & Ours & publ. & Ours & publ. \\"
    )
    return tabular(header, rows, width=5)


# the long tables of the appendix: fixed column widths that add up to the text width
_COMPARE_ALIGN = r"@{}ll" + RAGGED + r"p{0.22\linewidth}rrccr@{}"


def comparison_tabular(df: pd.DataFrame) -> str:
    """The rows of :func:`cftrain.pipeline.reporting.compare.comparison` that we have run,
    grouped by the published table they come from (appendix longtable)."""
    done = df[df["ours"].notna()]
    header = ["Data", "Model", "Quantity", "Published", "Ours", "Sign", "Star", "Seeds"]
    rows: list[Sequence[str] | str | None] = []
    for (table, experiment), part in done.groupby(["table", "experiment"], sort=False):
        if rows:
            rows.append(None)
        rows.append(_group_row(_table_heading(table, experiment), len(header)))
        for r in part.itertuples(index=False):
            rows.append(
                [*_compared_cell(r), _yes_no(r.sign_agrees), _yes_no(r.star_agrees), _seeds(r)]
            )
    return tabular(
        header,
        rows,
        align=_COMPARE_ALIGN,
        long=True,
        caption="Every published cell reproduced in this configuration, next to ours (first"
        " training seed), grouped by the published table or figure it comes from; sign and"
        " star: whether the sign of the reduction and its significance agree; seeds: mean"
        " $\\pm$ std over the training seeds and, in parentheses, how many of them keep the"
        " published sign and star.\\label{tab:comparison}",
    )


def disagreements_tabular(df: pd.DataFrame) -> str:
    """The cells whose sign or significance differs from the published one at the first seed,
    or that keep the published sign and star in fewer than all training seeds."""
    done = df[df["ours"].notna()]
    first = (done["sign_agrees"] == False) | (done["star_agrees"] == False)  # noqa: E712
    unstable = (done["n_seeds"] > 1) & (done["n_seeds_agree"] < done["n_seeds"])
    listed = done[first | unstable]
    if listed.empty:
        agree = "\\emph{Every compared cell agrees in sign and significance.}"
        return agree + "\\label{tab:disagreements}"
    header = ["Data", "Model", "Quantity", "Published", "Ours", "Seeds"]
    rows: list[Sequence[str] | str | None] = []
    for (table, experiment), part in listed.groupby(["table", "experiment"], sort=False):
        if rows:
            rows.append(None)
        rows.append(_group_row(_table_heading(table, experiment), len(header)))
        rows += [[*_compared_cell(r), _seeds(r)] for r in part.itertuples(index=False)]
    return tabular(
        header,
        rows,
        align=r"@{}ll" + RAGGED + r"p{0.3\linewidth}rrr@{}",
        long=True,
        caption="Cells whose sign or significance differs from the published one at the first"
        " training seed, or in at least one seed; seeds: mean $\\pm$ std over the training"
        " seeds and how many of them agree.\\label{tab:disagreements}",
    )


def rows_tabular(df: pd.DataFrame) -> str:
    """The main-table cells of CH, Credit and GMSC from both sources of rows
    (:func:`cftrain.pipeline.reporting.compare.rows_comparison`); the paper's table float
    around it holds the caption."""
    if df.empty:
        note = "\\emph{No experiment ran on our own draw of the raw files (\\texttt{tabular\\_rows:"
        return note + " raw}), so there is nothing to compare.}\n"

    def ours(r: Any, rows: str) -> str:
        value = getattr(r, f"ours_{rows}")
        text = num(value) + (SIG_MARK if _is_true(getattr(r, f"ours_star_{rows}")) else "")
        n, kept = getattr(r, f"n_seeds_{rows}"), getattr(r, f"n_seeds_agree_{rows}")
        if not pd.isna(n) and n > 1 and not pd.isna(kept):
            text += f" {{\\scriptsize ({int(kept)}/{int(n)})}}"
        return text

    rows = [
        [
            escape(dataset_label(r.dataset)),
            METRIC_LATEX.get(r.metric, escape(r.metric)),
            num(r.published) + (SIG_MARK if _is_true(r.published_star) else ""),
            ours(r, "reference"),
            ours(r, "raw"),
        ]
        for r in tables.dataset_sorted(df).itertuples(index=False)
    ]
    return tabular(
        ["Data", "Quantity", "Published", "Reference's rows", "Our draw"],
        rows,
        align="@{}llrrr@{}",
    )


def _table_heading(table: str, experiment: str) -> str:
    return TABLE_LABELS.get((table, experiment), TABLE_LABELS.get((table, ""), table))


def variants_tabular(paths: Sequence[str | Path]) -> str:
    """The investigation runs (``benchmarks/fidelity.py`` with one option changed): each
    file's cells, ours next to the published value, grouped by variant (appendix longtable)."""
    header = ["Data", "Quantity", "Ours", "Published"]
    rows: list[Sequence[str] | str | None] = []
    for path in sorted(map(Path, paths)):
        variant = path.stem.removeprefix("fidelity-").removesuffix("-only")
        if rows:
            rows.append(None)
        rows.append(_group_row(f"Variant {escape(variant)}", len(header)))
        for r in pd.read_csv(path).itertuples(index=False):
            rows.append(
                [
                    escape(dataset_label(r.dataset)),
                    escape(quantity_label(r.quantity, r.experiment)),
                    _result_text(r.ours),
                    _result_text(r.published),
                ]
            )
    if not rows:
        return "\\emph{No investigation runs were recorded.}\\label{tab:variants}"
    return tabular(
        header,
        rows,
        align=r"@{}l" + "".join(RAGGED + f"p{{{w}\\linewidth}}" for w in (0.28, 0.34, 0.2)) + "@{}",
        long=True,
        caption="Investigation runs at the paper's sizes, each with one option changed or over"
        " several seeds (\\texttt{benchmarks/fidelity.py},"
        " \\texttt{benchmarks/fidelity\\_causes.py}): ours next to the published value."
        "\\label{tab:variants}",
    )


def _result_text(text: object) -> str:
    """A benchmark's result text (``3.73 ± 0.97 *``, ``0.89 / 0.99``) with minus signs, the
    spread in small type and the star as in the other tables."""
    words = str(text).split()
    star = SIG_MARK if words and words[-1] == "*" else ""
    words = words[:-1] if star else words
    if "±" in words:
        i = words.index("±")
        value = " ".join(minus(escape(w)) for w in words[:i])
        spread = " ".join(escape(w) for w in words[i + 1 :])
        return f"{value}{star} {{\\scriptsize $\\pm$ {spread}}}"
    return " ".join(minus(escape(w)) for w in words) + star


def _compared_cell(r: Any) -> list[str]:
    """Data, model, quantity, published (``≈`` if read off a figure) and ours, with the
    significance mark, of one row of :func:`cftrain.pipeline.reporting.compare.comparison`."""
    published = ("$\\approx$" if _is_true(r.approximate) else "") + num(r.published)
    if _is_true(r.published_star):
        published += SIG_MARK
    ours = num(r.ours) + (SIG_MARK if _is_true(r.ours_star) else "")
    return [
        escape(dataset_label(r.dataset)),
        escape(model_label(r.model)),
        (MEAN_LATEX if r.table == "absolute" else METRIC_LATEX).get(r.metric, escape(r.metric)),
        published,
        ours,
    ]


def _seeds(r: Any) -> str:
    """``mean ± std (k/n)`` over the training seeds; empty with a single seed."""
    if pd.isna(r.n_seeds) or r.n_seeds < 2:
        return ""
    kept = "" if pd.isna(r.n_seeds_agree) else f" ({int(r.n_seeds_agree)}/{int(r.n_seeds)})"
    return f"{num(r.seeds_mean)} {{\\scriptsize $\\pm$ {fmt(r.seeds_std)}}}{kept}"


def _yes_no(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return "yes" if bool(value) else "no"


RULE_LABELS = {
    "train": "training",
    "evaluate": "counterfactual evaluation",
    "performance": "accuracy and robustness",
    "ig": "integrated gradients",
}


def wall_time_tabular(df: pd.DataFrame) -> str:
    """Per rule (the workflow's ``wall_times.csv`` summed over experiments and datasets)."""
    df = wall_times_per_rule(df)
    rows: list[Sequence[str] | None] = [
        [
            escape(RULE_LABELS.get(r.rule, r.rule)),
            str(int(r.jobs)),
            fmt(r.total_seconds / 60.0, 1),
            fmt(r.mean_seconds, 1),
            fmt(r.max_seconds, 1),
        ]
        for r in df.itertuples(index=False)
    ]
    if not df.empty:
        rows.append(None)
        rows.append(
            ["total", str(int(df["jobs"].sum())), fmt(df["total_seconds"].sum() / 60.0, 1), "", ""]
        )
    return tabular(["Stage (workflow rule)", "Jobs", "Sum (min)", "Mean (s)", "Max (s)"], rows)


def wall_time_by_dataset_tabular(df: pd.DataFrame) -> str:
    """Per experiment and dataset: training and evaluation seconds (every seed and cell), so
    a reader can set them next to the reference's per-dataset cluster times."""
    pivot = df.pivot_table(
        index=["experiment", "dataset"], columns="rule", values="total_seconds", aggfunc="sum"
    ).fillna(0.0)
    jobs = df[df["rule"] == "train"].set_index(["experiment", "dataset"])["jobs"]
    other = [c for c in pivot.columns if c not in ("train", "evaluate")]
    rows: list[Sequence[str] | None] = []
    previous = None
    for (experiment, dataset), r in pivot.iterrows():
        if previous is not None and experiment != previous:
            rows.append(None)
        rows.append(
            [
                escape(experiment_label(experiment)) if experiment != previous else "",
                escape(dataset_label(dataset)),
                str(int(jobs.get((experiment, dataset), 0))),
                fmt(r.get("train", 0.0), 1),
                fmt(r.get("evaluate", 0.0), 1),
                fmt(r[other].sum(), 1),
                fmt(r.sum() / 60.0, 1),
            ]
        )
        previous = experiment
    return tabular(
        # training jobs: since issue 25 a job trains a batch of up to train_batch_size models
        [
            "Experiment",
            "Data",
            "Train jobs",
            "Train (s)",
            "Evaluate (s)",
            "Other (s)",
            "Sum (min)",
        ],
        rows,
        align="llrrrrr",
    )


def stage_times_tabular(stages: pd.DataFrame) -> str:
    """The measured elapsed time of each workflow stage (``compute.stage_times``)."""
    rows = [
        [
            escape(r.stage),
            fmt(r.minutes, 1),
            "" if pd.isna(r.job_minutes) else fmt(r.job_minutes, 1),
            escape(r.note),
        ]
        for r in stages.itertuples(index=False)
    ]
    return tabular(
        ["Stage", "Elapsed (min)", "Jobs' sum (min)", "How it was timed"],
        rows,
        align=r"@{}" + RAGGED + r"p{0.34\linewidth}rr" + RAGGED + r"p{0.26\linewidth}@{}",
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
    return tabular(
        ["Data", "Batch size", "$\\tau$ (training)", "Counterfactuals per epoch", "$\\lreg$"],
        rows,
    )


def data_tabular(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """Per dataset: features, classes, the sizes of the splits and the protected features
    (the data job's summaries, ``results/data/<dataset>.json``)."""
    rows = []
    for data in tables.dataset_sorted(pd.DataFrame({"dataset": list(summaries)}))["dataset"]:
        s = summaries[data]
        rows.append(
            [
                escape(dataset_label(data)),
                str(s["n_features"]),
                str(s["n_classes"]),
                f"{s['sizes']['train']:,}".replace(",", "\\,"),
                f"{s['sizes']['val']:,}".replace(",", "\\,"),
                f"{s['sizes']['test']:,}".replace(",", "\\,"),
                _protected_text(s["protected"]),
            ]
        )
    return tabular(
        ["Data", "Features", "Classes", "Train", "Validation", "Test", "Protected"],
        rows,
        align=r"lrrrrr" + RAGGED + r"p{0.22\linewidth}",
    )


def _protected_text(names: Sequence[str]) -> str:
    """Feature names (``x1`` as $x_1$), or the count where there are many (MNIST's pixels)."""
    if len(names) > 3:
        return f"{len(names)} pixels"
    return ", ".join(
        f"$x_{{{n[1:]}}}$" if n[:1] == "x" and n[1:].isdigit() else escape(n) for n in names
    )


def defaults_tabular() -> str:
    """Every other training default (``TrainingConfig``) and the evaluation protocol's
    constants, under the paper's names, so the appendix cannot drift from the code."""
    skip = {"objective", "batch_size", "tau", "nce", "lambda_reg", "seed"}
    rows: list[Sequence[str] | str | None] = [_group_row("Training", 2)]
    for f in fields(TrainingConfig):
        if f.name in skip:
            continue
        rows.append([PARAMETER_LABELS.get(f.name, escape(f.name)), _value_text(f.name, f.default)])
    rows.append(None)
    rows.append(_group_row("Evaluation", 2))
    rows += [
        ["$\\legy$ of the search", ", ".join(f"{v:g}" for v in protocol.LAMBDA_ENERGIES)],
        ["$\\lcost$ of the search", f"{protocol.EvalSetting(1.0).lambda_cost:g}"],
        ["threshold $\\tau$ ($\\IP$, $\\IPstar$)", f"{sizes.TAU_PLAUSIBILITY:g}"],
        ["threshold $\\tau$ (cost, protected features)", f"{sizes.TAU_MUTABILITY:g}"],
        ["search steps $T$", str(protocol.EvalSetting(1.0).max_iter)],
        ["target samples for $\\IP$", str(DEFAULT_IP_SAMPLES)],
        ["kernel length-scale of $\\IPstar$", f"{DEFAULT_LENGTH_SCALE:g}"],
        ["subsample for $\\IPstar$", str(DEFAULT_SUBSAMPLE)],
        [
            "robustness radii $\\varepsilon$",
            f"{len(EPSILONS)} values from 0 to {EPSILONS.max():.2g}",
        ],
        ["PGD steps, step size", f"{PGD_STEPS}, {PGD_STEP_SIZE:g}"],
    ]
    return tabular(["Parameter", "Value"], rows, align="ll")


def _value_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "generator":
        return escape(generator_label(str(value)))
    if isinstance(value, float):
        return minus(f"{value:g}")
    return escape(value)


def config_tabular(config: Mapping) -> str:
    """The resolved workflow configuration as a readable table (appendix longtable): one
    group per experiment, each setting under the paper's name; settings left to the
    library's defaults say which default applies, never ``None``."""
    rows: list[Sequence[str] | str | None] = []
    scale = config.get("scale")
    for name, spec in config.items():
        if not isinstance(spec, Mapping):
            continue
        if rows:
            rows.append(None)
        rows.append(_group_row(f"Experiment {escape(experiment_label(name))}", 2))
        rows += [[escape(k), v] for k, v in _experiment_rows(spec)]
    if not rows:
        return "\\emph{No configuration was recorded.}\\label{tab:config}"
    scale_text = f" at the scale \\texttt{{{escape(scale)}}}" if scale else ""
    return tabular(
        ["Setting", "Value"],
        rows,
        align=r"@{}" + RAGGED + r"p{0.28\linewidth}" + RAGGED + r"p{0.68\linewidth}@{}",
        long=True,
        caption=f"The configuration of this build{scale_text}: every experiment the workflow"
        " ran, with its datasets, training seeds, trained models, evaluation protocol and"
        " sizes.\\label{tab:config}",
    )


def _list_text(values: Iterable[object], label=str) -> str:
    return ", ".join(escape(label(v)) for v in values)


def _seed_text(seeds: Sequence[int]) -> str:
    seeds = sorted(int(s) for s in seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}--{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _setting_text(key: str, values: object) -> str:
    """``$\\legy$ \\in \\{0.1, …\\}`` for a grid axis or a fixed value."""
    label = PARAMETER_LABELS.get(key, escape(key.replace("_", " ")))
    if key == "objective":
        show = lambda v: escape(model_label(str(v)))  # noqa: E731
    elif key == "generator":
        show = lambda v: escape(generator_label(str(v)))  # noqa: E731
    else:
        show = lambda v: minus(escape(f"{v:g}" if isinstance(v, float) else v))  # noqa: E731
    if isinstance(values, list | tuple):
        return f"{label} $\\in$ \\{{{', '.join(show(v) for v in values)}\\}}"
    return f"{label} = {show(values)}"


def _experiment_rows(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The readable rows of one experiment's resolved specification."""
    rows: list[tuple[str, str]] = []
    datasets = spec.get("datasets", [])
    rows.append(("Datasets", _list_text(datasets, dataset_label)))
    if "seeds" in spec:
        rows.append(("Training seeds", _seed_text(spec["seeds"])))
    train = spec.get("train", {})
    base = train.get("base")
    base_text = {
        "final": "the paper's final hyper-parameters (Table~\\ref{tab:final-hp})",
    }.get(base, escape(base) if base else "the library's defaults")
    rows.append(("Trained models", base_text))
    grid = train.get("grid") or {}
    if grid:
        rows.append(("Grid", "; ".join(_setting_text(k, v) for k, v in grid.items())))
    fixed = train.get("fixed") or {}
    if fixed:
        rows.append(("Fixed", "; ".join(_setting_text(k, v) for k, v in fixed.items())))
    for data, values in (train.get("per_dataset") or {}).items():
        rows.append(
            (
                f"Fixed on {dataset_label(data)}",
                "; ".join(_setting_text(k, v) for k, v in values.items()),
            )
        )
    model = spec.get("model") or {}
    if model:
        options = model.get("options") or {}
        text = MODEL_TEXT.get(model.get("name", ""), escape(model.get("name", "")))
        if options:
            text += " (" + ", ".join(f"{escape(k)} = {escape(v)}" for k, v in options.items()) + ")"
        rows.append(("Model", text))
    if "mutability" in spec:
        rows.append(("Protected features", "yes" if spec["mutability"] else "no"))
    evaluation = spec.get("evaluation") or {}
    protocols = evaluation.get("protocols") or {}
    for name, proto in protocols.items():
        label = (
            "Evaluation" if len(protocols) == 1 else f"Evaluation, {PROTOCOL_NAMES.get(name, name)}"
        )
        rows.append((label, _protocol_text(proto, spec)))
    if evaluation:
        individuals = evaluation.get("n_individuals")
        runs = evaluation.get("n_runs")
        rows.append(
            (
                "Evaluation sizes",
                (
                    f"{individuals} individuals"
                    if individuals is not None
                    else "individuals per dataset (synthetic, tabular, MNIST): "
                    + ", ".join(
                        str(sizes.n_individuals(d))
                        for d in (sizes.SYNTHETIC[0], sizes.TABULAR[0], sizes.IMAGE[0])
                    )
                )
                + " per value of $\\legy$; "
                + (
                    f"{runs} bootstrap runs"
                    if runs is not None
                    else f"{sizes.N_RUNS} bootstrap runs ({sizes.N_RUNS_MNIST_ABLATION} for the"
                    " MNIST ablation)"
                )
                + f"; factuals from the {escape(evaluation.get('split', 'test'))} split",
            )
        )
        if evaluation.get("group_by"):
            rows.append(
                ("Evaluated per", _list_text(evaluation["group_by"], lambda k: k.replace("_", " ")))
            )
    perf = spec.get("performance") or {}
    extras = []
    if perf.get("robustness"):
        extras.append("FGSM and PGD robustness")
    if perf.get("ig"):
        extras.append(
            f"integrated gradients ({perf.get('ig_rounds')} rounds of {perf.get('ig_sample_size')}"
            f" points, {perf.get('ig_steps')} steps)"
        )
    rows.append(("Also measured", "; ".join(extras) if extras else "test accuracy only"))
    final = spec.get("final_options") or {}
    for key, value in final.items():
        if value is not None:
            rows.append((key.replace("_", " "), escape(value)))
    if spec.get("tables"):
        rows.append(("Tables", _list_text(spec["tables"], lambda t: TABLE_NAMES.get(t, t))))
    return rows


PROTOCOL_NAMES = {"ecco": "ECCo protocol", "own": "own-generator protocol"}
MODEL_TEXT = {
    "mlp": "multi-layer perceptron (Section~\\ref{sec:setup})",
    "linear": "linear classifier",
    "lenet": "LeNet-5 convolutional network",
}


def _protocol_text(proto: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    generator = proto.get("generator", "")
    gen = (
        "each model's own training generator"
        if generator == "own"
        else escape(generator_label(str(generator)))
    )
    parts = [gen]
    if proto.get("lambda_cost") is not None:
        cost = minus(f"{proto['lambda_cost']:g}")
        parts.append(f"$\\lcost$ = {cost}")
    if proto.get("lambda_energy") is not None:
        parts.append(_setting_text("lambda_energy", proto["lambda_energy"]))
    if proto.get("max_iter") is not None:
        parts.append(f"$T$ = {proto['max_iter']}")
    if proto.get("step_size") is not None:
        parts.append(f"step {proto['step_size']:g}")
    tau = proto.get("tau")
    if tau is None:
        tau_default = sizes.eval_tau(bool(spec.get("mutability")))
        parts.append(f"$\\tau$ = {tau_default:g} (the default of this experiment)")
    else:
        parts.append(f"$\\tau$ = {tau:g}")
    if proto.get("categorical"):
        parts.append("one-hot groups: " + escape(str(proto["categorical"]).replace("_", " ")))
    return "; ".join(parts)


PROTOCOL_TEXT = {"ecco": "evaluated with ECCo", "own": "evaluated with each model's own generator"}


def _generators(df: pd.DataFrame) -> list[str]:
    known = [g for g in ("ecco", "generic", "omniscient", "revise") if g in set(df["generator"])]
    return known + sorted(set(df["generator"]) - set(known))


def initial_grid_tabular(df: pd.DataFrame) -> str:
    """The seed draft's tables (method §2.7): plausibility (−IP) mean ± std over cells and
    bootstrap runs by training λ_egy (rows; BL first) and training generator (columns), per
    dataset and evaluation protocol, first training seed (appendix longtable)."""
    df = df[df["seed"] == df["seed"].min()]
    gens = _generators(df)
    header = ["Model", *[escape(generator_label(g)) for g in gens]]
    rows: list[Sequence[str] | str | None] = []
    order = tables.dataset_sorted(df[["dataset"]].drop_duplicates())["dataset"]
    protocols = sorted(set(df["protocol"]), key=lambda p: (p != tables.PAPER_PROTOCOL, p))
    for data in order:
        for proto in protocols:
            part = df[(df["dataset"] == data) & (df["protocol"] == proto)]
            if part.empty:
                continue
            if rows:
                rows.append(None)
            heading = f"{escape(dataset_label(data))}, {PROTOCOL_TEXT.get(proto, escape(proto))}"
            rows.append(_group_row(heading, len(header)))
            bl = part[part["objective"] == "vanilla"]
            rows.append(["BL", *[_mean_std(bl, g) for g in gens]])
            ct = part[part["objective"] != "vanilla"]
            for lam in sorted(ct["lambda_energy"].dropna().unique()):
                at = ct[ct["lambda_energy"] == lam]
                rows.append([f"CT, $\\legy = {lam:g}$", *[_mean_std(at, g) for g in gens]])
    return tabular(
        header,
        rows,
        align="@{}l" + "r" * len(gens) + "@{}",
        long=True,
        caption="The seed draft's initial grid: plausibility (the negative of $\\IP$, higher"
        " is better) of the models trained with each training-time generator (columns) and"
        " energy weight $\\legy$ (rows), mean {\\scriptsize $\\pm$ std} over the grid's cost"
        " weights and search steps and the bootstrap runs.\\label{tab:initial-grid}",
    )


def _mean_std(part: pd.DataFrame, generator: str) -> str:
    hit = part[part["generator"] == generator]
    if hit.empty:
        return MISSING
    row = hit.iloc[0]
    return f"{num(row['plausibility_mean'])} {{\\scriptsize $\\pm$ {fmt(row['plausibility_std'])}}}"


def grid_cell_params(grid: Mapping[str, Sequence[Any]]) -> dict[frozenset[str], dict[str, Any]]:
    """The training parameters of each cell of ``grid`` (key → values), found by the parts
    of its id in any key order (``full_ecco_cost0.001_egy5_T20``)."""
    from cftrain.pipeline.config import expand_grid

    return {frozenset(c.id.split("_")): dict(c.params) for c in expand_grid(grid)}


def with_cell_params(acc: pd.DataFrame, grid: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """``acc`` (an accuracy table, one row per model id) with the cells' grid parameters."""
    params = grid_cell_params(grid)
    rows = [params.get(frozenset(str(m).split("_")), {}) for m in acc["model"]]
    return pd.concat([acc.reset_index(drop=True), pd.DataFrame(rows)], axis=1)


def initial_grid_accuracy_tabular(acc: pd.DataFrame, grid: Mapping[str, Sequence[Any]]) -> str:
    """Lowest test accuracy of the initial grid's CT models per dataset, by the search's cost
    weight and number of steps at training time (first seed), and BL's."""
    acc = with_cell_params(acc[acc["seed"] == acc["seed"].min()], grid)
    ct = acc[acc.get("objective", pd.Series(dtype=str)) != "vanilla"]
    bl = acc[acc.get("objective", pd.Series(dtype=str)) == "vanilla"]
    costs = sorted(ct["lambda_cost"].dropna().unique()) if "lambda_cost" in ct else []
    steps = sorted(ct["max_iter"].dropna().unique()) if "max_iter" in ct else []
    rows = []
    for data in tables.dataset_sorted(acc[["dataset"]].drop_duplicates())["dataset"]:
        part = ct[ct["dataset"] == data]
        cells = [num(part[part["lambda_cost"] == c]["accuracy"].min(), 3) for c in costs]
        cells += [num(part[part["max_iter"] == t]["accuracy"].min(), 3) for t in steps]
        cells.append(num(bl[bl["dataset"] == data]["accuracy"].min(), 3))
        rows.append([escape(dataset_label(data)), *cells])
    n = 1 + len(costs) + len(steps) + 1
    top = ["Data"]
    rules = []
    if costs:
        top.append(rf"\multicolumn{{{len(costs)}}}{{c}}{{CT by $\lcost$}}")
        rules.append(rf"\cmidrule(lr){{2-{1 + len(costs)}}}")
    if steps:
        first = 2 + len(costs)
        top.append(rf"\multicolumn{{{len(steps)}}}{{c}}{{CT by $T$}}")
        rules.append(rf"\cmidrule(lr){{{first}-{first + len(steps) - 1}}}")
    top.append("BL")
    sub = ["", *[minus(f"{c:g}") for c in costs], *[f"{int(t)}" for t in steps], ""]
    header = " & ".join(top) + r" \\ " + " ".join(rules) + "\n" + " & ".join(sub) + r" \\"
    return tabular(header, rows, width=n)


def write(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
