"""Evaluation (method §5): counterfactual measures, the benchmark protocol, performance,
robustness, integrated gradients, and the aggregation into the paper's tables."""

from cftrain.evaluation.aggregation import (
    ablation_table,
    ig_table,
    reduction_table,
    robustness_table,
    run_means,
    valid_cell_means,
    validity_table,
    violation_table,
)
from cftrain.evaluation.attribution import (
    integrated_gradients,
    protected_sensitivity_rounds,
    random_baseline,
    standardise,
)
from cftrain.evaluation.counterfactual_metrics import (
    constraint_violations,
    cost,
    draw_target_neighbours,
    implausibility,
    redundancy,
    validity,
)
from cftrain.evaluation.divergence import gaussian_kernel, mmd2_by_group, mmd2_unbiased
from cftrain.evaluation.performance import accuracy, f1_macro, f1_score, predict
from cftrain.evaluation.protocol import (
    LAMBDA_ENERGIES,
    EvalSetting,
    benchmark,
    benchmark_dataset,
    draw_factuals,
    draw_label_pairs,
    eval_settings,
    write_parquet,
)
from cftrain.evaluation.robustness import (
    EPSILONS,
    fgsm,
    pgd,
    robust_accuracy_curve,
    robustness_curves,
)
from cftrain.sizes import TAU_MUTABILITY, TAU_PLAUSIBILITY

__all__ = [
    "EPSILONS",
    "LAMBDA_ENERGIES",
    "TAU_MUTABILITY",
    "TAU_PLAUSIBILITY",
    "EvalSetting",
    "ablation_table",
    "accuracy",
    "benchmark",
    "benchmark_dataset",
    "constraint_violations",
    "cost",
    "draw_factuals",
    "draw_label_pairs",
    "draw_target_neighbours",
    "eval_settings",
    "f1_macro",
    "f1_score",
    "fgsm",
    "gaussian_kernel",
    "ig_table",
    "implausibility",
    "integrated_gradients",
    "mmd2_by_group",
    "mmd2_unbiased",
    "pgd",
    "predict",
    "protected_sensitivity_rounds",
    "random_baseline",
    "reduction_table",
    "redundancy",
    "robust_accuracy_curve",
    "robustness_curves",
    "robustness_table",
    "run_means",
    "standardise",
    "valid_cell_means",
    "validity",
    "validity_table",
    "violation_table",
    "write_parquet",
]
