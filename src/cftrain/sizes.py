"""Evaluation sizes per dataset and experiment, in one place (method §0, §5.1–5.2).

Experiment definitions and ``benchmark_dataset`` read these; nothing else hard-codes them.
Plain Python (no torch), so the workflow can plan its jobs without importing the training stack.
"""

from __future__ import annotations

SYNTHETIC = ("lin_sep", "circles", "moons", "over")
TABULAR = ("adult", "cali", "credit", "gmsc")
IMAGE = ("mnist",)

#: training points of each dataset as built (method §0 sizes after the stratified split), so
#: the workflow can check ``nce`` without loading data (a test compares them with the data)
TRAINING_POINTS = {
    **dict.fromkeys(SYNTHETIC, 3001),
    "adult": 25050,
    "cali": 15505,
    "credit": 9619,
    "gmsc": 12372,
    "mnist": 10000,
}

TAU_PLAUSIBILITY = 0.95  # IP / IP* runs (method §5.1)
TAU_MUTABILITY = 0.5  # cost runs with protected features (method §5.1)
N_RUNS = 100  # J (method §5.2)
N_RUNS_MNIST_ABLATION = 50


def n_individuals(dataset: str) -> int:
    """Individuals per λ_egy value: 250 synthetic, 100 tabular, 25 MNIST (method §5.2)."""
    if dataset in SYNTHETIC:
        return 250
    if dataset in TABULAR:
        return 100
    if dataset in IMAGE:
        return 25
    raise ValueError(f"dataset={dataset!r}; expected one of {SYNTHETIC + TABULAR + IMAGE}")


def n_runs(dataset: str, experiment: str) -> int:
    """Bootstrap runs J: 100, except 50 for the MNIST ablation (method §0)."""
    n_individuals(dataset)  # validates the name
    return N_RUNS_MNIST_ABLATION if (dataset, experiment) == ("mnist", "ablation") else N_RUNS


def eval_tau(protect: bool) -> float:
    """τ_eval: 0.5 for the runs with protected features, else 0.95 (method §5.1)."""
    return TAU_MUTABILITY if protect else TAU_PLAUSIBILITY
