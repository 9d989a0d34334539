"""Which training-config fields the cells of one batch share (method §1.2; issue 25).

Its own module, free of torch, because both sides need it: the batched engine stacks only
cells that agree on these fields, and the workflow groups cells into training jobs by them when
it plans the DAG, which must not import torch."""

#: TrainingConfig fields the cells of one batch share; all others may differ per cell
BATCH_FIELDS = (
    "objective",
    "nepochs",
    "batch_size",
    "nce",
    "burnin",
    "generator",
    "protect_immutable",
    "categorical",
    "domain_bound",
)
