"""Counterfactual training: the per-epoch loop of method §1.2 for K cells at once, with
resumable checkpoints (issue 25).

A batch of cells shares its data, model architecture and training-time generator family;
each cell has its own model, hyperparameters and random streams. Each epoch: (a) unless
the objective is ``vanilla`` or the epoch is in burn-in, one counterfactual sweep of all
cells with their models as they stand (:func:`cftrain.sweep.sweep_cells`); (b) one Adam
step per cell and contiguous, unshuffled mini-batch, its loss combining the batch's
cross-entropy with the CT terms of the sweep group attached to that batch
(:mod:`cftrain.objectives`); (c) a log row per cell and, if asked, a checkpoint.

The cells' parameters are stacked (:mod:`cftrain.stacking`), their optimisers are one
:class:`~cftrain.cell_adam.CellAdam`, and each cell draws from its own ``torch.Generator``
seeded by its ``config.seed`` in the order of a batch of one. So a cell's parameters,
log and counterfactuals do not depend on its batch-mates, bit for bit on one machine,
torch version and thread count; :func:`counterfactual_training` is the batch of one. A
cell whose parameters become non-finite stops alone with a :class:`CellFailure`; the
others go on. Everything follows the models' device and dtype; the checkpoint holds the
stacked state and every cell's streams, so an interrupted batch resumed from it is
bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from cftrain import checkpoint as checkpoints
from cftrain import objectives, validation
from cftrain.batch_fields import BATCH_FIELDS
from cftrain.batch_search import CellSettings, stack_generators
from cftrain.categorical import OFF, Categorical
from cftrain.cell_adam import CellAdam
from cftrain.constraints import Constraints
from cftrain.data.bundle import Dataset
from cftrain.data.splits import infer_domain
from cftrain.generators import Generator
from cftrain.modes import DropoutStream, eval_mode, train_mode
from cftrain.stacking import StackedModel, stack_models
from cftrain.sweep import Sweep, group_sizes, sweep_cells
from cftrain.training_config import TrainingConfig, final_config, make_generator

__all__ = [
    "BATCH_FIELDS",
    "CHECKPOINT_NAME",
    "LOG_COLUMNS",
    "Cell",
    "CellFailure",
    "TrainingConfig",
    "TrainingResult",
    "counterfactual_training",
    "final_config",
    "train_cells",
]

CHECKPOINT_NAME = "checkpoint.pt"
#: per-epoch log; loss terms an objective lacks (or an epoch without sweep) are NaN
LOG_COLUMNS = (
    "epoch",
    "loss",
    *objectives.TERMS,
    "accuracy",
    "val_accuracy",
    "percent_mature",
    "mean_iterations",
    "n_skipped",
    "n_search_nonfinite",
    "seconds",
)

TensorLike = torch.Tensor | np.ndarray
MaybeTensor = torch.Tensor | None
#: method §4.5: the domain inferred for raw-tensor data, ``n_σ = 2`` as in the reference code
N_SIGMA = 2.0
#: the maturity warning: fewer than this % of counterfactuals mature …
LOW_MATURITY_PERCENT = 5.0
#: … for this many consecutive sweep epochs after burn-in
LOW_MATURITY_EPOCHS = 5


@dataclass(frozen=True)
class Cell:
    """One training run of a batch: an ``id`` for messages, its config, its model (trained
    in place; initial weights are the caller's) and optionally its own generator (e.g. a
    REVISE with a VAE fitted elsewhere) instead of the one ``config`` names."""

    id: str
    config: TrainingConfig
    model: nn.Module
    generator: Generator | None = None


@dataclass(frozen=True)
class CellFailure:
    """Why a cell stopped: its id, the epoch and the reason (non-finite parameters)."""

    cell: str
    epoch: int
    reason: str


@dataclass
class TrainingResult:
    """The trained model (same object as passed in), its per-epoch log, the config, and
    the failure that stopped it early (``None`` if it trained to the end)."""

    model: nn.Module
    log: pd.DataFrame
    config: TrainingConfig
    failure: CellFailure | None = None


def counterfactual_training(
    model: nn.Module,
    data: Dataset | Sequence[TensorLike],
    config: TrainingConfig | None = None,
    *,
    constraints: Constraints | None = None,
    generator: Generator | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    stop_after_epoch: int | None = None,
    quiet: bool = False,
    restart: bool = False,
) -> TrainingResult:
    """Train ``model`` in place with ``config`` (method §1.2) and return it with its log:
    :func:`train_cells` for one cell.

    data: a :class:`~cftrain.data.bundle.Dataset` (train split for training, val split
    for the validation accuracy; constraints from ``data.constraints(
    config.protect_immutable)``), or ``(x_train, y_train[, x_val, y_val])`` with
    features ``(N, D)`` and labels ``(N,)`` in ``0..K-1``; then ``constraints`` gives
    the domain and, iff ``config.protect_immutable``, the mutability; without domain
    bounds they are inferred from ``x_train`` (method §1.2(a)1, §4.5).
    generator: overrides the generator built from ``config`` (e.g. a REVISE with a
    VAE fitted elsewhere). checkpoint_dir: write ``checkpoint.pt`` there after every
    epoch, and resume from it if present: its digest, its data and its config must
    match (a larger ``nepochs`` continues the run); ``restart=True`` ignores it.
    stop_after_epoch: end this call after that epoch (the run can be resumed later).
    quiet: no progress bar. The model's parameters decide device and dtype.

    Optimiser steps run in train mode with dropout drawing from a checkpointed stream
    seeded by ``config.seed``; sweeps and accuracies run in eval mode (the model's
    previous mode is restored). Non-finite parameters stop training with a
    ``FloatingPointError``.
    """
    config = config or TrainingConfig()
    cell = Cell("cell", config, model, generator)
    (result,) = train_cells(
        [cell],
        data,
        constraints=constraints,
        checkpoint_dir=checkpoint_dir,
        stop_after_epoch=stop_after_epoch,
        quiet=quiet,
        restart=restart,
    )
    if result.failure is not None:
        raise FloatingPointError(result.failure.reason)
    return result


def train_cells(
    cells: Sequence[Cell],
    data: Dataset | Sequence[TensorLike],
    *,
    constraints: Constraints | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    stop_after_epoch: int | None = None,
    quiet: bool = False,
    restart: bool = False,
) -> list[TrainingResult]:
    """Train the ``cells`` (see :class:`Cell`) on ``data`` as one computation; returns their
    results in order. Arguments as :func:`counterfactual_training`, for the whole batch.

    The cells share :data:`BATCH_FIELDS` of their configs, one model architecture,
    device and dtype (:func:`cftrain.batch_plan.plan_batches` groups cells so); each
    other field is the cell's own. A cell whose parameters become non-finite stops:
    its result carries a :class:`CellFailure` and its model the non-finite parameters;
    the other cells finish and their results are those they would have trained alone.
    """
    if not cells:
        return []
    configs = [c.config for c in cells]
    for cell in cells:
        if not isinstance(cell.config, TrainingConfig):
            raise TypeError(f"config is a {type(cell.config).__name__}; expected a TrainingConfig")
    config = configs[0]
    for name in BATCH_FIELDS:
        values = {getattr(c, name) for c in configs}
        if len(values) > 1:
            raise ValueError(f"cells of one batch need one {name}, got {sorted(map(str, values))}")
    owner = "counterfactual_training"
    models = [c.model for c in cells]
    device, dtype = validation.model_device_dtype(models[0], f"{owner}: model")
    for m in models[1:]:
        if validation.model_device_dtype(m, f"{owner}: model") != (device, dtype):
            raise ValueError("cells of one batch need models on one device with one dtype")
    for m in models:
        if not any(p.requires_grad for p in m.parameters()):
            raise ValueError(
                f"{owner}: the model ({type(m).__name__}) has no trainable parameters; "
                "expected a classifier with weights to train"
            )
    validation.check(owner, "stop_after_epoch", stop_after_epoch, validation.Count | None)
    validation.check(owner, "restart", restart, validation.Flag)
    x, y, x_val, y_val, constraints = _training_data(data, config, constraints, device, dtype)
    validation.finite(owner, "x_train", x)
    if x_val is not None:
        validation.finite(owner, "x_val", x_val)
    with eval_mode(*models):
        n_classes = validation.n_outputs(owner, models[0], x)
    validation.labels(owner, "y_train", y, x.shape[0], n_classes, device)
    if isinstance(data, Dataset) and data.n_classes != n_classes:
        raise ValueError(f"model has {n_classes} outputs, dataset {data.n_classes} classes")
    categorical = _categorical(data, config)
    sweeping = objectives.needs_counterfactuals(config.objective)
    x_batches, y_batches = x.split(config.batch_size), y.split(config.batch_size)
    n_batches = len(x_batches)
    nce = max(config.nce or n_batches, n_batches)
    if sweeping and nce > x.shape[0]:
        raise ValueError(f"nce={nce} exceeds the {x.shape[0]} training points (no replacement)")
    rngs = [torch.Generator(device=device).manual_seed(c.seed) for c in configs]
    dropouts = [DropoutStream(_dropout_seed(c.seed), device) for c in configs]
    stacked = stack_models(models, dropouts)
    optimiser = CellAdam(stacked.params, [c.lr for c in configs])
    lam = {
        term: torch.tensor([c.lambdas[term] for c in configs], dtype=dtype, device=device)
        for term in config.lambdas
    }

    checkpoint = None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_NAME
    identity: dict[str, str] = {}  # computed only for a checkpoint (bf16 data cannot be hashed)
    if checkpoint is not None:
        name = data.name if isinstance(data, Dataset) else "arrays"
        identity = checkpoints.data_identity(name, (x, y, x_val, y_val), constraints)
    batch = _Batch(cells, stacked, optimiser, rngs, dropouts)
    if checkpoint is not None and checkpoint.exists() and not restart:
        batch.restore(checkpoint, identity)
    first = batch.epoch + 1
    last = config.nepochs if stop_after_epoch is None else min(stop_after_epoch, config.nepochs)
    generators: list[Generator] = []
    if sweeping and first <= last:  # built only when needed: REVISE fits a VAE here
        generators = _generators(cells, x)
    warned = [_low_maturity_streak(rows, config) >= LOW_MATURITY_EPOCHS for rows in batch.logs]

    bar = tqdm(
        range(first, last + 1),
        initial=first - 1,
        total=config.nepochs,
        desc=f"{objectives.PAPER_NAMES[config.objective]} epochs"
        + (f" ({len(cells)} cells)" if len(cells) > 1 else ""),
        disable=quiet,
    )
    for epoch in bar:
        if not bool(batch.active.any()):
            break
        start = time.perf_counter()
        sweep = None
        if sweeping and epoch > config.burnin_epochs:
            with eval_mode(*models):
                sweep = _sweep(batch, generators, x, y, n_classes, nce, constraints, categorical)
        with train_mode(*models):
            means, n_skipped = update_epoch(
                stacked, optimiser, x_batches, y_batches, sweep, lam, batch.active
            )
        failed = batch.check_finite(epoch, checkpoint)
        with eval_mode(*models):
            accuracies = _accuracies(stacked, x, y), _accuracies(stacked, x_val, y_val)
        seconds = time.perf_counter() - start
        for k in batch.active.nonzero().flatten().tolist():
            if k in failed:
                continue
            row = _log_row(epoch, means[k], n_skipped[k], accuracies, k, sweep, seconds)
            batch.logs[k].append(row)
            _warn(cells[k], len(cells), row, batch.logs[k], warned, k)
        for k in failed:
            batch.deactivate(k)
        batch.epoch = epoch
        if batch.active.any():
            done = [r[-1] for r, on in zip(batch.logs, batch.active.tolist(), strict=True) if on]
            mature = [r["percent_mature"] for r in done if not math.isnan(r["percent_mature"])]
            bar.set_postfix(
                acc=f"{np.mean([r['accuracy'] for r in done]):.3f}",
                mature=f"{np.mean(mature):.0f}%" if mature else "n/a",
            )
            if checkpoint is not None:
                batch.save(checkpoint, identity)
    results = []
    for k, cell in enumerate(cells):
        stacked.write_back(k, cell.model)
        log = pd.DataFrame(batch.logs[k], columns=LOG_COLUMNS)
        results.append(TrainingResult(cell.model, log, cell.config, batch.failures[k]))
    return results


def update_epoch(
    model: StackedModel,
    optimiser: CellAdam,
    x_batches: Sequence[torch.Tensor],
    y_batches: Sequence[torch.Tensor],
    sweep: Sweep | None,
    lam: dict[str, torch.Tensor],
    active: torch.Tensor,
) -> tuple[list[dict[str, float]], list[int]]:
    """One Adam step per cell and mini-batch (method §1.2(b)); per cell, its mean terms and
    number of skipped steps.

    Group i of each cell's sweep (leading cell axis) rides with batch i: its x⁺, x′ and
    x_AE are concatenated to the batch so one forward/backward pass serves all terms and
    cells. ``lam``: each term's ``(K,)`` weights. A cell whose loss is not finite, or that
    is not ``active: (K,)``, skips the step (parameters and optimiser state untouched).
    Term sums stay tensors until the epoch ends (one host sync per step, for the
    finiteness mask).
    """
    n_cells = model.n_cells
    names = ["clf"] if sweep is None else list(lam)
    pairs = sweep is not None and ("div" in lam or "ridge" in lam)
    ae = sweep is not None and "adv" in lam
    if sweep is not None:
        sizes = group_sizes(sweep.target.shape[1], len(x_batches))
        parts = [sweep.neighbour, sweep.counterfactual] if pairs else []
        parts += [sweep.adversarial] if ae else []
        grouped = [p.split(sizes, dim=1) for p in parts]
        targets, labels = sweep.target.split(sizes, dim=1), sweep.label.split(sizes, dim=1)
    first = x_batches[0]
    sums = torch.zeros(n_cells, len(names) + 1, dtype=first.dtype, device=first.device)
    stepped = torch.zeros(n_cells, dtype=torch.long, device=first.device)
    for i, (xb, yb) in enumerate(zip(x_batches, y_batches, strict=True)):
        b = xb.shape[0]
        inputs = xb.expand(n_cells, *xb.shape)
        if sweep is not None:
            inputs = torch.cat([inputs, *(g[i] for g in grouped)], dim=1)
        logits = model(inputs)
        terms = {"clf": objectives.clf(logits[:, :b], yb.expand(n_cells, b))}
        if sweep is not None:
            g = sizes[i]
            if pairs:
                pos, cf = logits[:, b : b + g], logits[:, b + g : b + 2 * g]
                if "div" in lam:
                    terms["div"] = objectives.div(pos, cf, targets[i])
                if "ridge" in lam:
                    terms["ridge"] = objectives.ridge(pos, cf, targets[i])
            if ae:
                terms["adv"] = objectives.adv(logits[:, logits.shape[1] - g :], labels[i])
        loss = sum(lam[k] * terms[k] for k in names)
        ok = active & torch.isfinite(loss)
        if not bool(ok.any()):
            continue
        grads = torch.autograd.grad(loss.sum(), model.params)
        optimiser.step(grads, ok)
        values = torch.stack([loss.detach(), *(terms[k].detach() for k in names)], dim=1)
        sums += torch.where(ok.unsqueeze(1), values, 0.0)
        stepped += ok
    n_stepped = stepped.tolist()
    means = (sums / stepped.clamp(min=1).unsqueeze(1).to(sums.dtype)).tolist()
    rows = []
    for cell_means, n in zip(means, n_stepped, strict=True):
        row = dict.fromkeys(objectives.TERMS, math.nan)
        row.update(
            zip(["loss", *names], cell_means if n else [math.nan] * len(cell_means), strict=True)
        )
        rows.append(row)
    return rows, [len(x_batches) - n for n in n_stepped]


class _Batch:
    """The state of a batch that outlives an epoch: the cells' logs, failures and active
    mask, and how it goes into and comes out of a checkpoint."""

    def __init__(
        self,
        cells: Sequence[Cell],
        stacked: StackedModel,
        optimiser: CellAdam,
        rngs: list[torch.Generator],
        dropouts: list[DropoutStream],
    ) -> None:
        self.cells, self.stacked, self.optimiser = cells, stacked, optimiser
        self.rngs, self.dropouts = rngs, dropouts
        self.epoch = 0
        self.logs: list[list[dict]] = [[] for _ in cells]
        self.failures: list[CellFailure | None] = [None] * len(cells)
        self.active = torch.ones(len(cells), dtype=torch.bool, device=stacked.params[0].device)

    def deactivate(self, k: int) -> None:
        self.active[k] = False

    def check_finite(self, epoch: int, checkpoint: Path | None) -> list[int]:
        """Active cells whose parameters are no longer all finite; each gets its failure."""
        finite = torch.stack([p.detach().flatten(1).isfinite().all(1) for p in self.stacked.params])
        bad = (self.active & ~finite.all(0)).nonzero().flatten().tolist()
        survivors = int(self.active.sum()) - len(bad)
        for k in bad:
            names = [
                n for n, ok in zip(self.stacked.names, finite[:, k].tolist(), strict=True) if not ok
            ]
            where = (
                f"; the last good state is in {checkpoint}"
                if checkpoint is not None and survivors == 0
                else ""
            )
            label = f"cell {self.cells[k].id!r}: " if len(self.cells) > 1 else ""
            reason = (
                f"{label}epoch {epoch}: model parameters {names[:5]} became non-finite (NaN or "
                f"inf); training stopped{where}. A lower learning rate lr usually helps."
            )
            self.failures[k] = CellFailure(self.cells[k].id, epoch, reason)
        return bad

    def save(self, path: Path, identity: dict[str, str]) -> None:
        """Write the checkpoint atomically with its digest, configs and data identity."""
        state = {
            "epoch": self.epoch,
            "cells": [c.id for c in self.cells],
            "configs": [c.config.to_dict() for c in self.cells],
            "data": identity,
            "params": self.stacked.state(),
            "optimiser": self.optimiser.state(),
            "rngs": [rng.get_state() for rng in self.rngs],
            "dropouts": [d.state() for d in self.dropouts],
            "logs": self.logs,
            "failures": [None if f is None else asdict(f) for f in self.failures],
        }
        checkpoints.save(path, state)

    def restore(self, path: Path, identity: dict[str, str]) -> None:
        """Load the batch's state from ``path`` after checking it is this batch's."""
        state = checkpoints.load(path)
        if state["cells"] != [c.id for c in self.cells]:
            raise checkpoints.CheckpointError(
                f"checkpoint {path} was written for cells {state['cells']}, not "
                f"{[c.id for c in self.cells]}; {checkpoints.RESTART_HINT}"
            )
        for cell, saved in zip(self.cells, state["configs"], strict=True):
            cell_state = {"data": state["data"], "config": saved}
            checkpoints.check_resumable(path, cell_state, cell.config.to_dict(), identity)
        self.stacked.load_state(state["params"])
        self.optimiser.load_state(state["optimiser"])
        for rng, saved in zip(self.rngs, state["rngs"], strict=True):
            rng.set_state(saved)
        for stream, saved in zip(self.dropouts, state["dropouts"], strict=True):
            stream.load_state(saved)
        self.epoch = state["epoch"]
        self.logs = [list(rows) for rows in state["logs"]]
        self.failures = [None if f is None else CellFailure(**f) for f in state["failures"]]
        for k, failure in enumerate(self.failures):
            if failure is not None:
                self.deactivate(k)
        if self.check_finite(self.epoch, None):
            raise checkpoints.CheckpointError(
                f"checkpoint {path} holds non-finite parameters; {checkpoints.RESTART_HINT}"
            )


def _generators(cells: Sequence[Cell], x: torch.Tensor) -> list[Generator]:
    """Each cell's generator: its own, or the one its config names; cells that need a
    REVISE VAE share one fit (the reference fits one per dataset, method §2.4)."""
    shared: dict[str, Generator] = {}
    out = []
    for cell in cells:
        if cell.generator is not None:
            out.append(cell.generator)
            continue
        if cell.config.generator == "revise" and "vae" not in shared:
            shared["vae"] = make_generator(cell.config, x)
        vae = getattr(shared.get("vae"), "vae", None)
        out.append(make_generator(cell.config, x, vae=vae))
    return out


def _sweep(
    batch: _Batch,
    generators: Sequence[Generator],
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    nce: int,
    constraints: Constraints | None,
    categorical: Categorical | None,
) -> Sweep:
    """The active cells' sweeps; an inactive cell's rows are zeros (its steps are skipped)."""
    on = batch.active.nonzero().flatten()
    cells = on.tolist()
    configs = [batch.cells[k].config for k in cells]
    settings = CellSettings.of(
        [c.tau for c in configs],
        [c.max_iter for c in configs],
        [c.step_size for c in configs],
        [c.ae_epsilon for c in configs],
        like=x,
    )
    model = batch.stacked if len(cells) == len(batch.cells) else batch.stacked.subset(on)
    found = sweep_cells(
        model,
        x,
        y,
        n_classes,
        nce,
        stack_generators([generators[k] for k in cells], like=x),
        constraints,
        [batch.rngs[k] for k in cells],
        settings,
        categorical,
    )
    if len(cells) == len(batch.cells):
        return found
    full = {}
    for name in (f.name for f in fields(Sweep)):
        part = getattr(found, name)
        whole = part.new_zeros((len(batch.cells), *part.shape[1:]))
        full[name] = whole.index_copy(0, on.to(part.device), part)
    return Sweep(**full)


def _log_row(
    epoch: int,
    means: dict[str, float],
    n_skipped: int,
    accuracies: tuple[list[float], list[float]],
    k: int,
    sweep: Sweep | None,
    seconds: float,
) -> dict:
    row = {
        "epoch": epoch,
        **means,
        "accuracy": accuracies[0][k],
        "val_accuracy": accuracies[1][k],
        "percent_mature": math.nan,
        "mean_iterations": math.nan,
        "n_skipped": n_skipped,
        "n_search_nonfinite": 0,
    }
    if sweep is not None:
        row["percent_mature"] = 100.0 * sweep.converged[k].float().mean().item()
        row["mean_iterations"] = sweep.iterations[k].float().mean().item()
        row["n_search_nonfinite"] = int(sweep.n_nonfinite[k])
    row["seconds"] = seconds
    return row


def _warn(
    cell: Cell, n_cells: int, row: dict, rows: list[dict], warned: list[bool], k: int
) -> None:
    """The epoch's warnings for one cell: skipped steps, and a first low-maturity streak."""
    label = f"cell {cell.id!r}, " if n_cells > 1 else ""
    epoch = row["epoch"]
    if row["n_skipped"]:
        warnings.warn(
            f"{label}epoch {epoch}: {row['n_skipped']} mini-batch(es) had a non-finite loss; "
            "their updates were skipped",
            RuntimeWarning,
            stacklevel=4,
        )
    if not warned[k] and _low_maturity_streak(rows, cell.config) >= LOW_MATURITY_EPOCHS:
        warned[k] = True
        first = epoch - LOW_MATURITY_EPOCHS + 1
        warnings.warn(
            label + _LOW_MATURITY.format(first=first, epoch=epoch), RuntimeWarning, stacklevel=4
        )


def _accuracies(model: StackedModel, x: torch.Tensor | None, y: torch.Tensor | None) -> list[float]:
    """Each cell's accuracy on ``x: (N, D)``; NaN without data (e.g. no validation split)."""
    if x is None or x.shape[0] == 0:
        return [math.nan] * model.n_cells
    with torch.no_grad():
        correct = [
            model(chunk.expand(model.n_cells, *chunk.shape)).argmax(dim=-1) == yc
            for chunk, yc in zip(x.split(_PREDICT_ROWS), y.split(_PREDICT_ROWS), strict=True)
        ]
    return torch.cat(correct, dim=1).double().mean(dim=1).tolist()


#: rows per forward pass of the accuracies (memory grows with rows × cells)
_PREDICT_ROWS = 65536


_LOW_MATURITY = (
    f"epochs {{first}}-{{epoch}}: fewer than {LOW_MATURITY_PERCENT:g}% of the counterfactuals "
    "matured in each sweep, so the divergence term was inactive and CT reduced to clf + ridge "
    "+ adv (percent_mature in the log). What usually helps: a lower decision threshold tau, "
    "more search steps max_iter (T), or more counterfactuals per epoch nce."
)


def _low_maturity_streak(rows: Sequence[dict], config: TrainingConfig) -> int:
    """Number of trailing sweep epochs (after burn-in) with < 5 % mature counterfactuals."""
    streak = 0
    for row in reversed(rows):
        mature = row["percent_mature"]
        if row["epoch"] <= config.burnin_epochs or math.isnan(mature):
            break
        if mature >= LOW_MATURITY_PERCENT:
            break
        streak += 1
    return streak


def _dropout_seed(seed: int) -> int:
    """The dropout stream's seed: derived from the run's seed, distinct from its sampling."""
    return int(np.random.SeedSequence([seed, 0xD50]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _categorical(data: Dataset | Sequence[TensorLike], config: TrainingConfig):
    """The sweep's one-hot decoding (method §4.8): the Dataset's groups under
    ``config.categorical``; plain tensors carry no groups, so only "off" is accepted."""
    if isinstance(data, Dataset):
        return Categorical.of(data.categorical, config.categorical)
    if config.categorical != OFF:
        raise ValueError(
            f"config.categorical={config.categorical!r} needs a Dataset with categorical "
            "groups; tensors carry none"
        )
    return None


def _training_data(
    data: Dataset | Sequence[TensorLike],
    config: TrainingConfig,
    constraints: Constraints | None,
    device: torch.device,
    dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor, MaybeTensor, MaybeTensor, Constraints | None]:
    """Training/validation tensors on the model's device, and the constraints in force."""
    if isinstance(data, Dataset):
        if constraints is not None:
            raise ValueError("a Dataset brings its own constraints; do not pass constraints")
        arrays = [data.x_train, data.y_train, data.x_val, data.y_val]
        constraints = data.constraints(protect=config.protect_immutable)
    else:
        arrays = list(data)
        if len(arrays) not in (2, 4):
            raise ValueError("data must be (x_train, y_train) or (x_train, y_train, x_val, y_val)")
        if constraints is None or constraints.lower is None:  # method §1.2(a)1, §4.5
            x_np = np.asarray(torch.as_tensor(arrays[0]).detach().cpu().numpy(), np.float64)
            lower, upper = (torch.from_numpy(b) for b in infer_domain(x_np, N_SIGMA))
            mutability = None if constraints is None else constraints.mutability
            constraints = Constraints(lower=lower, upper=upper, mutability=mutability)
        has_mutability = constraints is not None and constraints.mutability is not None
        if config.protect_immutable != has_mutability:
            raise ValueError(
                f"config.protect_immutable={config.protect_immutable} but the constraints "
                f"{'carry' if has_mutability else 'lack'} mutability: they must agree"
            )
        arrays += [None, None][: 4 - len(arrays)]
    if not config.domain_bound:  # the sweep's search leaves the domain open (method §4.5)
        constraints = constraints.unbounded()
    x, y, x_val, y_val = (None if a is None else torch.as_tensor(a).to(device) for a in arrays)
    x = x.to(dtype)
    x_val = None if x_val is None else x_val.to(dtype)
    return x, y.long(), x_val, None if y_val is None else y_val.long(), constraints
