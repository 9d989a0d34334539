"""The files the report writes, by name: what the workflow's DAG needs to know of the report
without importing its machinery (and with it the training stack)."""

GENERATED = (
    "macros.tex",
    "main_table.tex",
    "costs_unconstrained_table.tex",
    "validity_table.tex",
    "accuracy_table.tex",
    "ig_table.tex",
    "data_table.tex",
    "initial_grid_table.tex",
    "initial_grid_accuracy_table.tex",
    "stage_times_table.tex",
    "comparison_table.tex",
    "disagreements_table.tex",
    "rows_table.tex",
    "variants_table.tex",
    "wall_times_table.tex",
    "wall_times_by_dataset_table.tex",
    "reported_compute_table.tex",
    "final_hyperparameters_table.tex",
    "defaults_table.tex",
    "config_table.tex",
)
