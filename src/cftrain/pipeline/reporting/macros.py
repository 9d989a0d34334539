"""The generated macros file: every number the paper's text quotes (issue 15).

One function, :func:`collect_macros`, derives ``\\newcommand`` definitions from the
aggregated tables with systematic names (:func:`cftrain.pipeline.reporting.names.macro_name`):

===========================  =========================================================
``\\<metric><Field><Data>``   main table: metric ip | ipStar | cost; Field Reduction,
                              Std, Sig (a star or nothing), CiLow, CiHigh, Ct, Bl
``\\costUnconstrained…``      cost without protected features (method §6.4), same fields
``\\validity<Model><Set><Data>`` Model CT | BL, Set Unconstrained | Constrained (§6.5)
``\\ig<Model><Stat><Data>``    Stat Median | CiLow | CiHigh (§6.6)
``\\igSeedsLower<Data>``       training seeds in which CT's IG median is below BL's
``\\ablation<Metric><Model><Data>`` % reduction vs BL (§6.7)
``\\grid…``                   the seed draft's initial grid (§2.7), see initial_grid_macros
``\\robust<Attack><Model><Point><Data>`` Point Clean | End (largest ε) (§6.8)
``\\pub…``                    the same names for the published numbers (method §6)
``\\have<Experiment>``        defined when the experiment's tables were read
``\\hp…``                     hyper-parameters of the library and the configuration
``\\explosions…``             the initial grid on LS without the domain bound (issue 29),
                              from ``benchmarks/results/explosions.json``
===========================  =========================================================

Counts for the prose (``\\ipNumSig``: datasets with a significant positive reduction) are
derived from the same rows, so a sentence never contradicts its table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from cftrain.atomic import atomic_path
from cftrain.pipeline.booktabs import MINUS, MISSING
from cftrain.pipeline.config import EVAL_GENERATOR
from cftrain.pipeline.reporting import tables
from cftrain.pipeline.reporting.names import (
    DATASET_ORDER,
    METRIC_PARTS,
    dataset_label,
    macro_name,
    model_label,
)

SIG_MARK = r"\textsuperscript{*}"
REDUCTION_FIELDS = {
    "value": "Reduction",
    "std": "Std",
    "ci_low": "CiLow",
    "ci_high": "CiHigh",
    "ct_mean": "Ct",
    "bl_mean": "Bl",
}


def fmt(value: object, digits: int = 2) -> str:
    """Fixed-point text of a number; ``--`` for a missing value (NaN, None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    text = f"{float(value):.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


PCT = r"\,\%"


def join_and(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int) -> str:
    """``one`` … ``ten`` for small counts, digits beyond."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def count_of(k: int, n: int) -> str:
    """``all 96``, ``none of the 96`` or ``78 of the 96`` (``both``, ``the one``, ``no``)."""
    if n == 1:
        return "the one" if k else "no"
    if n > 0 and k == n:
        return f"all {n}" if n > 2 else ("both" if n == 2 else "the one")
    if k == 0:
        return f"none of the {n}"
    return f"{k} of the {n}"


def change_phrase(value: float, quantity: str = "") -> str:
    """A signed % reduction in words: ``a reduction of 18.37 %`` or ``an increase of 4.94 %``
    (never a negative reduction); ``quantity`` goes after the noun (``of IP``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    noun = "a reduction" if value >= 0 else "an increase"
    of = f" {quantity}" if quantity else ""
    return f"{noun}{of} of {fmt(abs(value))}{PCT}"


def significance_phrase(rows: pd.DataFrame) -> str:
    """Which rows of a reduction table (no average row) are significant, in words: ``on 7 of
    the 9 datasets, each a reduction`` or ``on 5 of the 9 datasets: reductions on 4 and an
    increase on MNIST``."""
    sig = rows[rows["star"].map(_truthy)]
    n, total = len(sig), len(rows)
    if total == 1:
        where = "on the only dataset" if n else "on no dataset"
    else:
        where = f"on {count_of(n, total)} datasets"
    if n == 0:
        return where
    up = sig[sig["value"] < 0]
    down = sig[sig["value"] >= 0]
    if up.empty:
        return where + (", each a reduction" if n > 1 else ", a reduction")
    if down.empty:
        return where + (", each an increase" if n > 1 else ", an increase")
    ups = join_and(dataset_label(d) for d in up["dataset"])
    downs = "reductions" if len(down) > 1 else "a reduction"
    increases = "increases" if len(up) > 1 else "an increase"
    return f"{where}: {downs} on {len(down)} and {increases} on {ups}"


def reduction_macros(df: pd.DataFrame, metric_part: Mapping[str, str]) -> dict[str, str]:
    """Macros of :func:`~cftrain.evaluation.aggregation.reduction_table` rows.

    metric_part: metric column value → leading name part (e.g. ``{"cost": "costUnconstrained"}``);
    rows of other metrics are ignored. Adds ``<part>NumSig`` (significant and positive) and
    ``<part>NumSigNeg`` (significant and negative) over the non-average rows.
    """
    out: dict[str, str] = {}
    for metric, part in metric_part.items():
        rows = df[df["metric"] == metric]
        for row in rows.itertuples(index=False):
            data = dataset_label(row.dataset)
            fields = REDUCTION_FIELDS if row.dataset != "Avg." else {"value": "Reduction"}
            for column, field in fields.items():
                out[macro_name(part, field, data)] = fmt(getattr(row, column, None))
            if row.dataset != "Avg.":
                out[macro_name(part, "Sig", data)] = SIG_MARK if _truthy(row.star) else ""
        for row in rows.itertuples(index=False):
            out[macro_name(part, "Change", dataset_label(row.dataset))] = change_phrase(row.value)
        datasets = rows[rows["dataset"] != "Avg."]
        out[macro_name(part, "Sig", "Phrase")] = significance_phrase(datasets)
        sig = datasets["star"].map(_truthy)
        out[macro_name(part, "Num", "Sig")] = str(int((sig & (datasets["value"] > 0)).sum()))
        out[macro_name(part, "Num", "Sig", "Neg")] = str(int((sig & (datasets["value"] < 0)).sum()))
        out[macro_name(part, "Num", "Datasets")] = str(len(datasets))
        if not datasets.empty and datasets["value"].notna().any():
            best = datasets.loc[datasets["value"].idxmax()]
            worst = datasets.loc[datasets["value"].idxmin()]
            out[macro_name(part, "Best", "Data")] = dataset_label(best["dataset"])
            out[macro_name(part, "Best", "Reduction")] = fmt(best["value"])
            out[macro_name(part, "Best", "Change")] = change_phrase(best["value"])
            out[macro_name(part, "Worst", "Data")] = dataset_label(worst["dataset"])
            out[macro_name(part, "Worst", "Reduction")] = fmt(worst["value"])
            out[macro_name(part, "Worst", "Change")] = change_phrase(worst["value"])
    return out


def validity_macros(df: pd.DataFrame, setting: str) -> dict[str, str]:
    """``\\validity<Model><Setting><Data>`` from a validity table."""
    return {
        macro_name("validity", model_label(r.model), setting, dataset_label(r.dataset)): fmt(
            r.validity
        )
        for r in df.itertuples(index=False)
    }


def ig_macros(df: pd.DataFrame) -> dict[str, str]:
    """Per dataset and model; ``igNumLower`` counts datasets where CT's median is below BL's."""
    out: dict[str, str] = {}
    wide = df.pivot(index="dataset", columns="model", values="median")
    if {"full", "vanilla"} <= set(wide.columns):
        lower = wide["full"] < wide["vanilla"]
        out["igNumLower"] = str(int(lower.sum()))
        out["igNumDatasets"] = str(len(wide))
        ordered = tables.dataset_sorted(pd.DataFrame({"dataset": list(wide.index)}))["dataset"]
        others = [dataset_label(d) for d in ordered if not lower[d]]
        plural = "datasets" if len(wide) != 1 else "dataset"
        where = f"on {count_of(int(lower.sum()), len(wide))} {plural}"
        if others and lower.any():
            where += f", all but {join_and(others)}"
        out["igLowerPhrase"] = where
    for r in df.itertuples(index=False):
        for column, stat in (("median", "Median"), ("ci_low", "CiLow"), ("ci_high", "CiHigh")):
            name = macro_name("ig", model_label(r.model), stat, dataset_label(r.dataset))
            out[name] = fmt(getattr(r, column))
    return out


def ig_seed_macros(df: pd.DataFrame) -> dict[str, str]:
    """Over every training seed (``seed`` column): ``igSeeds`` and, per dataset,
    ``igSeedsLower<Data>``, the seeds in which CT's median is below BL's (``--`` for a paper
    dataset not run); the ordering of two close medians can change with the training seed,
    which a single model cannot show."""
    wide = df.pivot_table(index=["dataset", "seed"], columns="model", values="median")
    if not {"full", "vanilla"} <= set(wide.columns):
        return {}
    lower = (wide["full"] < wide["vanilla"]).groupby(level="dataset").sum()
    n_seeds = df["seed"].nunique()
    out = {"igSeeds": str(n_seeds)}
    groups: dict[int, list[str]] = {}
    ordered = tables.dataset_sorted(pd.DataFrame({"dataset": list(lower.index)}))["dataset"]
    for data in ordered:
        groups.setdefault(int(lower[data]), []).append(dataset_label(data))
    parts = []
    for count in sorted(groups, reverse=True):
        seeds = (
            f"all {n_seeds} seeds"
            if count == n_seeds and n_seeds > 1
            else "no seed"
            if count == 0
            else f"{count} seed{'s' if count != 1 else ''}"
        )
        parts.append(f"in {seeds} on {join_and(groups[count])}")
    out["igSeedsPhrase"] = join_and(parts)
    for data in [*(d for d in DATASET_ORDER if d != "Avg."), *lower.index]:
        count = str(int(lower[data])) if data in lower.index else MISSING
        out[macro_name("ig", "Seeds", "Lower", dataset_label(data))] = count
    return out


def initial_grid_macros(df: pd.DataFrame) -> dict[str, str]:
    """The seed draft's grid in numbers: per evaluation protocol, how many (dataset, training
    generator, λ_energy) combinations of CT are more plausible than BL evaluated the same way
    (``gridBetter<Protocol>`` of ``gridRows<Protocol>``); under the paper's ECCo protocol, the
    generator and λ_energy with the largest mean gain over BL; the least
    plausible CT combination."""
    keys = ["dataset", "protocol", "generator"]
    baseline = df[df["objective"] == "vanilla"].set_index(keys)["plausibility_mean"]
    ct = df[df["objective"] == "full"].join(baseline.rename("baseline"), on=keys)
    ct = ct.assign(gain=ct["plausibility_mean"] - ct["baseline"])
    out: dict[str, str] = {
        "gridWorstPlausibility": fmt(ct["plausibility_mean"].min()),
        "gridDatasets": str(df["dataset"].nunique()),
    }
    for protocol, part in ct.groupby("protocol"):
        label = "Ecco" if protocol == "ecco" else protocol.capitalize()
        out[macro_name("grid", "Rows", label)] = str(len(part))
        out[macro_name("grid", "Better", label)] = str(int((part["gain"] > 0).sum()))
        out[macro_name("grid", "Better", label, "Of")] = count_of(
            int((part["gain"] > 0).sum()), len(part)
        )
    paper = ct[ct["protocol"] == "ecco"]
    if not paper.empty:
        best = paper.groupby("generator")["gain"].mean().idxmax()
        out["gridBestGenerator"] = EVAL_GENERATOR.get(best, best)
        out["gridBestLambda"] = f"{paper.groupby('lambda_energy')['gain'].mean().idxmax():g}"
        if "plausibility_std" in paper.columns:  # the spread over cells and bootstrap runs
            out["gridStdMin"] = fmt(paper["plausibility_std"].min())
            out["gridStdMax"] = fmt(paper["plausibility_std"].max())
    return out


def explosion_macros(figures: Mapping[str, float]) -> dict[str, str]:
    """The figures of ``benchmarks/explosions.py`` that the initial grid's section quotes:
    the least plausibility of the Generic and ECCo cells on LS with the domain bound off
    (``…WorstOff``, training and evaluation) and on (``…WorstOn``), the counts of cells, of
    distinct trainings and of those the bound changed, how many cells had a counterfactual
    with |IP| above the threshold, and the largest share of a cell's counterfactuals outside
    the domain (per cent) without the bound."""
    off, on = "train_off.eval_off", "train_on.eval_on"
    own = figures.get(f"{off}.own_generic.cells_exploded", 0)
    exploded = figures[f"{off}.cells_exploded"] + own
    return {
        "haveExplosions": "",
        "explosionsCells": str(int(figures[f"{off}.cells"])),
        "explosionsTrainings": str(int(figures["trainings"])),
        "explosionsTrainingsChanged": str(int(figures["trainings_changed"])),
        "explosionsWorstOff": fmt(figures[f"{off}.plausibility_min"]),
        "explosionsWorstOn": fmt(figures[f"{on}.plausibility_min"]),
        "explosionsIpMaxOff": fmt(figures[f"{off}.ip_max"], 1),
        "explosionsExploded": str(int(exploded)),
        "explosionsFailed": str(int(figures[f"{off}.cells_failed"])),
        "explosionsThreshold": f"10^{{{round(math.log10(figures['exploded_threshold']))}}}",
        "explosionsDomainLeftOff": fmt(100 * figures[f"{off}.domain_left_max"], 1),
    }


def ablation_macros(df: pd.DataFrame) -> dict[str, str]:
    """Per dataset, and ``…Avg`` as the plain mean over datasets, of each objective's reduction."""
    df = df[df["metric"].isin(list(METRIC_PARTS))]
    out = {
        macro_name(
            "ablation", METRIC_PARTS[r.metric], model_label(r.model), dataset_label(r.dataset)
        ): fmt(r.reduction)
        for r in df.itertuples(index=False)
    }
    for (metric, model), part in df.groupby(["metric", "model"], sort=True):
        name = macro_name("ablation", METRIC_PARTS[metric], model_label(model), "Avg")
        out[name] = fmt(part["reduction"].mean())
        out[name + "Change"] = change_phrase(part["reduction"].mean())
    return out


def robustness_macros(df: pd.DataFrame) -> dict[str, str]:
    """Clean accuracy (ε = 0) and the accuracy at the largest ε per attack, model, dataset."""
    out: dict[str, str] = {}
    keys = ["dataset", "model", "attack"]
    for (data, model, attack), part in df.sort_values("epsilon").groupby(keys, sort=True):
        stem = ("robust", attack.upper(), model_label(model))
        out[macro_name(*stem, "Clean", dataset_label(data))] = fmt(part["accuracy"].iloc[0])
        out[macro_name(*stem, "End", dataset_label(data))] = fmt(part["accuracy"].iloc[-1])
    ends = df[df["epsilon"] == df.groupby(keys)["epsilon"].transform("max")]
    for (model, attack), part in ends.groupby(["model", "attack"], sort=True):
        out[macro_name("robust", attack.upper(), model_label(model), "End", "Avg")] = fmt(
            part["accuracy"].mean()
        )
    if not df.empty:
        out["robustEpsMax"] = fmt(df["epsilon"].max())
    return out


def hyperparameter_macros() -> dict[str, str]:
    """``\\hp…``: the library's training defaults and evaluation constants (method §0, §5)."""
    import inspect

    from cftrain import models, sizes
    from cftrain.evaluation import attribution, protocol, robustness
    from cftrain.evaluation.counterfactual_metrics import DEFAULT_IP_SAMPLES
    from cftrain.evaluation.divergence import DEFAULT_LENGTH_SCALE, DEFAULT_SUBSAMPLE
    from cftrain.training_config import TrainingConfig

    train = TrainingConfig()
    mlp = {k: v.default for k, v in inspect.signature(models.mlp).parameters.items()}
    values: dict[tuple[str, ...], object] = {
        ("hidden",): mlp["n_hidden"],
        ("layers",): mlp["n_layers"],
        ("layers", "word"): number_word(mlp["n_layers"]),
        ("activation",): {"relu": "ReLU"}.get(mlp["activation"], mlp["activation"]),
        ("runs",): sizes.N_RUNS,
        ("runs", "mnist", "ablation"): sizes.N_RUNS_MNIST_ABLATION,
        ("individuals", "synthetic"): sizes.n_individuals(sizes.SYNTHETIC[0]),
        ("individuals", "tabular"): sizes.n_individuals(sizes.TABULAR[0]),
        ("individuals", "image"): sizes.n_individuals(sizes.IMAGE[0]),
        ("eval", "step", "size"): protocol.EvalSetting(1.0).step_size,
        ("lambda", "clf"): train.lambda_clf,
        ("lambda", "div"): train.lambda_div,
        ("lambda", "adv"): train.lambda_adv,
        ("epochs",): train.nepochs,
        ("lr",): train.lr,
        ("max", "iter"): train.max_iter,
        ("step", "size"): train.step_size,
        ("ae", "epsilon"): train.ae_epsilon,
        ("lambda", "cost"): train.lambda_cost,
        ("lambda", "energy"): train.lambda_energy,
        ("eval", "lambda", "cost"): protocol.EvalSetting(1.0).lambda_cost,
        ("eval", "tau"): sizes.TAU_PLAUSIBILITY,
        ("eval", "tau", "cost"): sizes.TAU_MUTABILITY,
        ("eval", "max", "iter"): protocol.EvalSetting(1.0).max_iter,
        ("eval", "lambdas"): ", ".join(f"{v:g}" for v in protocol.LAMBDA_ENERGIES),
        ("eval", "num", "lambdas"): len(protocol.LAMBDA_ENERGIES),
        ("length", "scale"): DEFAULT_LENGTH_SCALE,
        ("ip", "draws"): DEFAULT_IP_SAMPLES,
        ("mmd", "subsample"): DEFAULT_SUBSAMPLE,
        ("pgd", "steps"): robustness.PGD_STEPS,
        ("pgd", "step", "size"): robustness.PGD_STEP_SIZE,
        ("eps", "max"): float(robustness.EPSILONS.max()),
        ("ig", "steps"): attribution.DEFAULT_IG_STEPS,
        ("ig", "rounds"): attribution.DEFAULT_ROUNDS,
        ("ig", "sample"): attribution.DEFAULT_SAMPLE_SIZE,
    }
    return {
        macro_name("hp", *parts): v if isinstance(v, str) else f"{v:g}"
        for parts, v in values.items()
    }


def accuracy_macros(df: pd.DataFrame) -> dict[str, str]:
    """``\\accuracy<Model><Data>`` (clean test accuracy) and ``…Avg`` over datasets;
    ``accuracyDropData`` and ``accuracyDrop``: the dataset where CT's accuracy falls furthest
    below BL's, and by how much (``accuracyDropPhrase`` when it does nowhere)."""
    out = {
        macro_name("accuracy", model_label(r.model), dataset_label(r.dataset)): fmt(r.accuracy)
        for r in df.itertuples(index=False)
    }
    for model, part in df.groupby("model", sort=True):
        out[macro_name("accuracy", model_label(model), "Avg")] = fmt(part["accuracy"].mean())
    wide = df.pivot_table(index="dataset", columns="model", values="accuracy")
    if {"full", "vanilla"} <= set(wide.columns) and not wide.empty:
        drop = (wide["vanilla"] - wide["full"]).dropna()
        if not drop.empty:
            data = drop.idxmax()
            out["accuracyDropData"] = dataset_label(data)
            out["accuracyDrop"] = fmt(drop[data])
            rest = drop.drop(data)
            out["accuracyDropOthersMax"] = fmt(rest.max() if len(rest) else 0.0)
    return out


def published_macros() -> dict[str, str]:
    """``\\pub…``: the published averages of the main table and of the cost without
    protected features, and the published clean accuracies (read off the robustness figure)."""
    from cftrain.pipeline.reporting.compare import published

    pub = published()
    out: dict[str, str] = {}
    parts = {("main", "ip"): "ip", ("main", "mmd"): "ipStar", ("main", "cost"): "cost"}
    parts[("costs_unconstrained", "cost")] = "costUnconstrained"
    for r in pub[pub["dataset"] == "Avg."].itertuples(index=False):
        part = parts.get((r.table, r.metric))
        if part:
            out[macro_name("pub", part, "Reduction", "Avg")] = fmt(r.value)
            out[macro_name("pub", part, "Change", "Avg")] = change_phrase(r.value)
    clean = pub[(pub["table"] == "robustness") & (pub["metric"] == "fgsm_clean")]
    for r in clean.itertuples(index=False):
        name = macro_name("pub", "accuracy", model_label(r.model), dataset_label(r.dataset))
        out[name] = fmt(r.value)
    return out


def collect_macros(results: str | Path, experiments: Iterable[str]) -> dict[str, str]:
    """All result macros of the configured ``experiments`` (see the module docstring)."""
    experiments = list(experiments)
    out: dict[str, str] = hyperparameter_macros() | published_macros()
    for experiment in experiments:
        out[macro_name("have", experiment)] = ""

    def get(key: str) -> pd.DataFrame | None:
        return tables.load(results, key, experiments)

    if (df := get("main_ip")) is not None:
        out |= reduction_macros(df, {"ip": "ip", "mmd": "ipStar"})
    if (df := get("main_cost")) is not None:
        out |= reduction_macros(df, {"cost": "cost"})
    if (df := get("costs_unconstrained")) is not None:
        out |= reduction_macros(df, {"cost": "costUnconstrained"})
    if (df := get("validity_unconstrained")) is not None:
        out |= validity_macros(df, "Unconstrained")
    if (df := get("validity_constrained")) is not None:
        out |= validity_macros(df, "Constrained")
    if (df := tables.load(results, "ig", experiments, all_seeds=True)) is not None:
        out |= ig_macros(tables.paper_rows(df)) | ig_seed_macros(df)
    if (df := tables.load(results, "initial_grid", experiments, all_rows=True)) is not None:
        out |= initial_grid_macros(df[df["seed"] == df["seed"].min()])  # both protocols
    if (df := get("ablation")) is not None:
        out |= ablation_macros(df)
    if (df := get("robustness")) is not None:
        out |= robustness_macros(df)
    if (df := get("accuracy_single")) is not None:
        out |= accuracy_macros(df)
    return out


def render(macros: Mapping[str, str], source: str) -> str:
    """The macros as LaTeX ``\\newcommand`` lines (names sorted, so diffs stay small)."""
    lines = [f"% Generated by `cftrain report macros` from {source}; do not edit."]
    for name in sorted(macros):
        if not name.isalpha():
            raise ValueError(f"macro name {name!r} is not letters only")
        value = macros[name]
        if value.startswith("-") and value != MISSING:  # a minus sign, kept on one line
            value = f"\\mbox{{{MINUS}{value[1:]}}}"
        lines.append(f"\\newcommand{{\\{name}}}{{{value}}}")
    return "\n".join(lines) + "\n"


def write_macros(path: str | Path, macros: Mapping[str, str], source: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(render(macros, source))
    return Path(path)
