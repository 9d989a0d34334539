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

_WORD = re.compile(r"[A-Za-z]+")


def dataset_label(name: str) -> str:
    """Paper label of a dataset; unknown names pass through (so new datasets still report)."""
    return DATASET_LABELS.get(name, name)


def model_label(name: str) -> str:
    return MODEL_LABELS.get(name, name)


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
