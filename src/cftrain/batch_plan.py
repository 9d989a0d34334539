"""Which cells train together (issue 25): batches for :func:`cftrain.training.train_cells`.

Cells go into one batch when they share the batch fields of their configs, the model
architecture (one that :mod:`cftrain.stacking` stacks), device and dtype, and their
generators' shared parts. Within a group, cells are ordered by their search length T so
that a batch's search, whose width follows its slowest cell, wastes less. A cell's
results do not depend on its batch, so the plan only decides speed.

Stacking pays where an optimiser step is dominated by dispatch, autograd and Python
(small MLPs on the 2-D data with mini-batches of 30: 10.7× for 96 moons cells in the
issue's prototype). On the CPU it loses where the step is compute-bound (Adult and MNIST
with mini-batches of 1000), so there every cell trains alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cftrain import validation
from cftrain.stacking import stackable
from cftrain.training import BATCH_FIELDS, Cell

#: most cells in one batch (the prototype's largest measured batch)
MAX_CELLS = 96
#: on the CPU, cells with larger mini-batches train alone (compute-bound steps)
CPU_MAX_BATCH_SIZE = 100


def plan_batches(cells: Sequence[Cell], *, max_cells: int = MAX_CELLS) -> list[list[Cell]]:
    """Partition ``cells`` into batches for :func:`~cftrain.training.train_cells`, each of
    at most ``max_cells``; cells that gain nothing from stacking get batches of one.
    Batches keep the order of their groups' first cells."""
    if max_cells < 1:
        raise ValueError(f"max_cells={max_cells}; expected >= 1")
    groups: dict[tuple, list[Cell]] = {}
    alone: list[list[Cell]] = []
    order: list[tuple | int] = []
    for cell in cells:
        key = _key(cell)
        if key is None:
            order.append(len(alone))
            alone.append([cell])
            continue
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(cell)
    batches: list[list[Cell]] = []
    for item in order:
        if isinstance(item, int):
            batches.append(alone[item])
            continue
        group = sorted(groups[item], key=lambda c: (c.config.max_iter, c.config.tau))
        batches += [group[i : i + max_cells] for i in range(0, len(group), max_cells)]
    return batches


def _key(cell: Cell) -> tuple | None:
    """What cells of one batch share, or ``None`` for a cell that trains alone."""
    model = cell.model
    if not stackable(model):
        return None
    device, dtype = validation.model_device_dtype(model)
    config = cell.config
    if device.type == "cpu" and config.batch_size > CPU_MAX_BATCH_SIZE:
        return None
    shapes = tuple((n, tuple(p.shape)) for n, p in model.named_parameters())
    generator = cell.generator
    if generator is None:
        shared: tuple = ()
    elif dataclasses.is_dataclass(generator):
        shared = tuple(
            id(getattr(generator, f.name))
            for f in dataclasses.fields(generator)
            if not isinstance(getattr(generator, f.name), float)
        )
    else:
        return None
    fields = tuple(getattr(config, f) for f in BATCH_FIELDS)
    return (fields, shapes, str(device), str(dtype), type(generator).__name__, shared)
