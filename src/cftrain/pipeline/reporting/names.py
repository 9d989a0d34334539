"""Display labels and systematic LaTeX macro names for the report (method §6).

A macro name is the camel-cased join of letter-only parts, e.g. ``("ip", "reduction",
"circles") → \\ipReductionCirc``; LaTeX control words allow letters only, so every part is
mapped through a fixed label table and checked.
"""

from __future__ import annotations

import re

# The paper's dataset abbreviations (method §0), in the paper's row order.
DATASET_LABELS: dict[str, str] = {
    "lin_sep": "LS",
    "circles": "Circ",
    "moons": "Moon",
    "over": "OL",
    "adult": "Adult",
    "cali": "CH",
    "credit": "Cred",
    "gmsc": "GMSC",
    "mnist": "MNIST",
    "Avg.": "Avg",
}
DATASET_ORDER = tuple(DATASET_LABELS)

# Objectives as the paper names them (method §1.3).
MODEL_LABELS: dict[str, str] = {
    "full": "CT",
    "vanilla": "BL",
    "energy": "CD",
    "adversarial": "AR",
}

# Metric columns of the evaluation table → macro part and table header (method §5.2).
METRIC_PARTS: dict[str, str] = {"ip": "ip", "mmd": "ipStar", "cost": "cost"}
METRIC_LABELS: dict[str, str] = {"ip": "IP", "mmd": "IP*", "cost": "Cost"}
# the same and the comparison's other quantities as LaTeX (paper/notation.tex's macros)
METRIC_LATEX: dict[str, str] = {
    "ip": r"$\IP$ reduction (\%)",
    "mmd": r"$\IPstar$ reduction (\%)",
    "cost": r"cost reduction (\%)",
    "validity": "validity",
    "ig": "IG median",
    "fgsm_clean": "no attack",
    "fgsm_end": r"FGSM, largest $\varepsilon$",
    "pgd_end": r"PGD, largest $\varepsilon$",
}
# … where a published table holds means, not reductions
MEAN_LATEX: dict[str, str] = {
    "ip": r"$\IP$ (mean)",
    "mmd": r"$\IPstar$ (mean)",
    "cost": "cost (mean)",
}
# the workflow's table names (config/experiments/*.yaml) as the text names them
TABLE_NAMES: dict[str, str] = {
    "main": "main table",
    "costs_unconstrained": "cost without protected features",
    "absolute": "means behind the main table",
    "validity": "validity",
    "accuracy": "accuracy",
    "ig": "integrated gradients",
    "ablation": "ablation",
    "robustness": "robustness",
    "initial_grid": "initial grid",
    "grid": "grid",
}
# (published table, experiment) → the heading of its group in the long tables; "" = any
TABLE_LABELS: dict[tuple[str, str], str] = {
    ("main", "single"): "Main table: reductions of CT against BL",
    ("main", "mutability"): "Main table: cost reduction with protected features",
    ("absolute", "single"): "Means of CT and BL behind the main table's IP and IP*",
    ("absolute", "mutability"): "Means of CT and BL behind the main table's cost",
    ("costs_unconstrained", ""): "Cost reduction without protected features",
    ("validity", "single"): "Validity without protected features",
    ("validity", "mutability"): "Validity with protected features",
    ("ig", ""): "Integrated gradients on the protected features",
    ("ablation", ""): "Ablation: reductions against BL (read off the published figure)",
    ("robustness", ""): "Robustness: test accuracy of the ablation's models (read off the"
    " published figure)",
}
# Experiments as the text names them.
EXPERIMENT_LABELS: dict[str, str] = {"initial_grid": "initial grid"}
# Training-time generators (method §2).
GENERATOR_LABELS: dict[str, str] = {
    "ecco": "ECCo",
    "generic": "Generic",
    "revise": "REVISE",
    "omniscient": "Omniscient",
    "omni": "Omniscient",
}
# Training and search parameters (TrainingConfig fields, grid axes) as LaTeX, the paper's
# notation (paper/notation.tex).
PARAMETER_LABELS: dict[str, str] = {
    "objective": "objective",
    "lambda_clf": r"$\lclf$ (classification)",
    "lambda_div": r"$\ldiv$ (contrastive divergence)",
    "lambda_reg": r"$\lreg$ (energy ridge)",
    "lambda_adv": r"$\ladv$ (adversarial loss)",
    "nepochs": "epochs",
    "batch_size": "batch size",
    "nce": "counterfactuals per epoch",
    "burnin": "burn-in (share of epochs)",
    "lr": "learning rate (Adam)",
    "generator": "training generator",
    "lambda_cost": r"$\lcost$ of the search",
    "lambda_energy": r"$\legy$ of the search",
    "tau": r"threshold $\tau$",
    "max_iter": r"search steps $T$",
    "step_size": "search step size",
    "ae_epsilon": r"radius of the nascent adversarial examples",
    "protect_immutable": "protected features",
    "categorical": "one-hot groups in the search",
}
# The quantities of the investigation runs (benchmarks/fidelity.py), word by word.
_QUANTITY_WORDS: dict[str, str] = {
    "ip": "IP",
    "mmd": "IP*",
    "full": "(CT)",
    "energy": "(CD)",
    "adversarial": "(AR)",
    "vanilla": "(BL)",
}

_WORD = re.compile(r"[A-Za-z]+")


def dataset_label(name: str) -> str:
    """Paper label of a dataset; unknown names pass through (so new datasets still report)."""
    return DATASET_LABELS.get(name, name)


def model_label(name: str) -> str:
    return MODEL_LABELS.get(name, name)


def experiment_label(name: str) -> str:
    return EXPERIMENT_LABELS.get(name, name)


def generator_label(name: str) -> str:
    return GENERATOR_LABELS.get(name, name)


def quantity_label(quantity: str, experiment: str = "") -> str:
    """A benchmark quantity (``mmd reduction % full``) in the paper's words (``IP* reduction %
    (CT)``); the cost and validity of ``mutability`` say that features were protected."""
    words = [_QUANTITY_WORDS.get(w, w) for w in str(quantity).split()]
    text = " ".join(words)
    if experiment == "mutability":
        text += ", protected features"
    return text[:1].upper() + text[1:]


def macro_name(*parts: str) -> str:
    """``macro_name("ip", "reduction", "Circ") == "ipReductionCirc"``.

    Parts are split on non-letters and camel-cased; a part containing digits is rejected
    because TeX would end the control word there.
    """
    words: list[str] = []
    for part in parts:
        if re.search(r"\d", part):
            raise ValueError(f"macro name part {part!r} contains a digit; TeX names are letters")
        words.extend(_WORD.findall(part))
    if not words:
        raise ValueError(f"empty macro name from parts {parts!r}")
    head, *tail = words
    return head[0].lower() + head[1:] + "".join(w[0].upper() + w[1:] for w in tail)
