"""Counterfactual training: the per-epoch loop of SPEC §1.2, with resumable checkpoints.

Each epoch: (a) unless the objective is ``vanilla`` or the epoch is in burn-in, one
counterfactual sweep with the model as it stands (:mod:`cftrain.sweep`); (b) one
Adam step per contiguous, unshuffled mini-batch, its loss combining the batch's
cross-entropy with the CT terms of the sweep group attached to that batch
(:mod:`cftrain.objectives`); (c) a log row and, if asked, a checkpoint.

Everything follows the model's device and dtype. One ``torch.Generator`` seeded by
``config.seed`` drives all sampling; its state is checkpointed with the model and
optimiser, so an interrupted run resumed from its checkpoint is bitwise identical
to an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from cftrain import checkpoint as checkpoints
from cftrain import objectives, validation
from cftrain.categorical import OFF, Categorical
from cftrain.constraints import Constraints
from cftrain.data.bundle import Dataset
from cftrain.data.splits import infer_domain
from cftrain.evaluation.performance import accuracy
from cftrain.generators import Generator
from cftrain.modes import DropoutStream, eval_mode, train_mode
from cftrain.sweep import Sweep, group_sizes, run_sweep
from cftrain.training_config import TrainingConfig, final_config, make_generator

__all__ = [
    "CHECKPOINT_NAME",
    "LOG_COLUMNS",
    "TrainingConfig",
    "TrainingResult",
    "counterfactual_training",
    "final_config",
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
#: SPEC §4.5: the domain inferred for raw-tensor data, ``n_σ = 2`` as in the reference code
N_SIGMA = 2.0
#: the maturity warning: fewer than this % of counterfactuals mature …
LOW_MATURITY_PERCENT = 5.0
#: … for this many consecutive sweep epochs after burn-in
LOW_MATURITY_EPOCHS = 5


@dataclass
class TrainingResult:
    """The trained model (same object as passed in), its per-epoch log, and the config."""

    model: nn.Module
    log: pd.DataFrame
    config: TrainingConfig


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
    """Train ``model`` in place with ``config`` (SPEC §1.2) and return it with its log.

    data: a :class:`~cftrain.data.bundle.Dataset` (train split for training, val split
    for the validation accuracy; constraints from ``data.constraints(
    config.protect_immutable)``), or ``(x_train, y_train[, x_val, y_val])`` with
    features ``(N, D)`` and labels ``(N,)`` in ``0..K-1``; then ``constraints`` gives
    the domain and, iff ``config.protect_immutable``, the mutability; without domain
    bounds they are inferred from ``x_train`` (SPEC §1.2(a)1, §4.5).
    generator: overrides the generator built from ``config`` (e.g. a REVISE with a
    VAE fitted elsewhere). checkpoint_dir: write ``checkpoint.pt`` there after every
    epoch, and resume from it if present: its digest, its data and its config must
    match (a larger ``nepochs`` continues the run); ``restart=True`` ignores it.
    stop_after_epoch: end this call after that epoch (the run can be resumed later).
    quiet: no progress bar. The model's parameters decide device and dtype.

    Optimiser steps run in train mode with dropout drawing from a checkpointed stream
    seeded by ``config.seed``; sweeps and accuracies run in eval mode (the model's
    previous mode is restored). Non-finite parameters stop training with an error.
    """
    config = config or TrainingConfig()
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config is a {type(config).__name__}; expected a TrainingConfig")
    device, dtype = validation.model_device_dtype(model, "counterfactual_training: model")
    owner = "counterfactual_training"
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(
            f"{owner}: the model ({type(model).__name__}) has no trainable parameters; "
            "expected a classifier with weights to train"
        )
    validation.check(owner, "stop_after_epoch", stop_after_epoch, validation.Count | None)
    validation.check(owner, "restart", restart, validation.Flag)
    x, y, x_val, y_val, constraints = _training_data(data, config, constraints, device, dtype)
    validation.finite(owner, "x_train", x)
    if x_val is not None:
        validation.finite(owner, "x_val", x_val)
    with eval_mode(model):
        n_classes = validation.n_outputs(owner, model, x)
    validation.labels(owner, "y_train", y, x.shape[0], n_classes, device)
    if isinstance(data, Dataset) and data.n_classes != n_classes:
        raise ValueError(f"model has {n_classes} outputs, dataset {data.n_classes} classes")
    categorical = _categorical(data, config)
    lam = config.lambdas
    sweeping = objectives.needs_counterfactuals(config.objective)
    x_batches, y_batches = x.split(config.batch_size), y.split(config.batch_size)
    n_batches = len(x_batches)
    nce = max(config.nce or n_batches, n_batches)
    if sweeping and nce > x.shape[0]:
        raise ValueError(f"nce={nce} exceeds the {x.shape[0]} training points (no replacement)")
    rng = torch.Generator(device=device).manual_seed(config.seed)
    dropout = DropoutStream(_dropout_seed(config.seed), device)
    # the fused kernel is the same Adam (β 0.9/0.999, ε 1e-8), a third cheaper per step
    optimiser = torch.optim.Adam(
        model.parameters(), lr=config.lr, fused=device.type in ("cpu", "cuda")
    )

    checkpoint = None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_NAME
    identity = None
    if checkpoint is not None:
        name = data.name if isinstance(data, Dataset) else "arrays"
        identity = checkpoints.data_identity(name, (x, y, x_val, y_val), constraints)
    rows: list[dict] = []
    if checkpoint is not None and checkpoint.exists() and not restart:
        rows = _restore(checkpoint, config, identity, model, optimiser, rng, dropout)
    warned = _low_maturity_streak(rows, config) >= LOW_MATURITY_EPOCHS
    first = len(rows) + 1
    last = config.nepochs if stop_after_epoch is None else min(stop_after_epoch, config.nepochs)
    if sweeping and first <= last:  # built only when needed: REVISE fits a VAE here
        generator = generator or make_generator(config, x)

    bar = tqdm(
        range(first, last + 1),
        initial=first - 1,
        total=config.nepochs,
        desc=f"{objectives.PAPER_NAMES[config.objective]} epochs",
        disable=quiet,
    )
    for epoch in bar:
        start = time.perf_counter()
        sweep = None
        if sweeping and epoch > config.burnin_epochs:
            sweep = run_sweep(
                model,
                x,
                y,
                n_classes,
                nce,
                generator,
                constraints,
                rng,
                tau=config.tau,
                max_iter=config.max_iter,
                step_size=config.step_size,
                ae_epsilon=config.ae_epsilon,
                categorical=categorical,
            )
        with train_mode(model), dropout.active():
            means, n_skipped = update_epoch(model, optimiser, x_batches, y_batches, sweep, lam)
        _check_finite(model, epoch, checkpoint)
        if n_skipped:
            warnings.warn(
                f"epoch {epoch}: {n_skipped} mini-batch(es) had a non-finite loss; "
                "their updates were skipped",
                RuntimeWarning,
                stacklevel=2,
            )
        row = {
            "epoch": epoch,
            **means,
            "accuracy": _accuracy(model, x, y),
            "val_accuracy": _accuracy(model, x_val, y_val),
            "percent_mature": math.nan,
            "mean_iterations": math.nan,
            "n_skipped": n_skipped,
            "n_search_nonfinite": 0,
        }
        if sweep is not None:
            row["percent_mature"] = 100.0 * sweep.converged.float().mean().item()
            row["mean_iterations"] = sweep.iterations.float().mean().item()
            row["n_search_nonfinite"] = sweep.n_nonfinite
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        if not warned and _low_maturity_streak(rows, config) >= LOW_MATURITY_EPOCHS:
            warned = True
            first = epoch - LOW_MATURITY_EPOCHS + 1
            warnings.warn(
                _LOW_MATURITY.format(first=first, epoch=epoch), RuntimeWarning, stacklevel=2
            )
        bar.set_postfix(acc=f"{row['accuracy']:.3f}", mature=f"{row['percent_mature']:.0f}%")
        if checkpoint is not None:
            _save(checkpoint, config, identity, model, optimiser, rng, dropout, rows)
    return TrainingResult(model=model, log=pd.DataFrame(rows, columns=LOG_COLUMNS), config=config)


def update_epoch(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    x_batches: Sequence[torch.Tensor],
    y_batches: Sequence[torch.Tensor],
    sweep: Sweep | None,
    lam: dict[str, float],
) -> tuple[dict[str, float], int]:
    """One Adam step per mini-batch (SPEC §1.2(b)); returns mean terms and #skipped steps.

    Group i of the sweep rides with batch i: its x⁺, x′ and x_AE are concatenated to
    the batch so one forward/backward pass serves all terms. A non-finite loss skips
    the step (parameters and optimiser state untouched). Term sums stay tensors until
    the epoch ends (no per-step host syncs besides the finiteness check).
    """
    names = ["clf"] if sweep is None else list(lam)
    pairs = sweep is not None and ("div" in lam or "ridge" in lam)
    ae = sweep is not None and "adv" in lam
    if sweep is not None:
        sizes = group_sizes(sweep.target.shape[0], len(x_batches))
        parts = [sweep.neighbour, sweep.counterfactual] if pairs else []
        parts += [sweep.adversarial] if ae else []
        grouped = [p.split(sizes) for p in parts]
        targets, labels = sweep.target.split(sizes), sweep.label.split(sizes)
    sums = torch.zeros(len(names) + 1, dtype=x_batches[0].dtype, device=x_batches[0].device)
    n_skipped = 0
    for i, (xb, yb) in enumerate(zip(x_batches, y_batches, strict=True)):
        inputs = xb if sweep is None else torch.cat([xb, *(g[i] for g in grouped)])
        logits = model(inputs)
        b = xb.shape[0]
        terms = {"clf": objectives.clf(logits[:b], yb)}
        if sweep is not None:
            g = sizes[i]
            if pairs:
                pos, cf = logits[b : b + g], logits[b + g : b + 2 * g]
                if "div" in lam:
                    terms["div"] = objectives.div(pos, cf, targets[i])
                if "ridge" in lam:
                    terms["ridge"] = objectives.ridge(pos, cf, targets[i])
            if ae:
                terms["adv"] = objectives.adv(logits[logits.shape[0] - g :], labels[i])
        loss = sum(lam[k] * terms[k] for k in names)
        if not torch.isfinite(loss):
            n_skipped += 1
            continue
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        sums += torch.stack([loss.detach(), *(terms[k].detach() for k in names)])
    n_stepped = len(x_batches) - n_skipped
    means = (sums / n_stepped).tolist() if n_stepped else [math.nan] * len(sums)
    row = dict.fromkeys(objectives.TERMS, math.nan)
    row.update(zip(["loss", *names], means, strict=True))
    return row, n_skipped


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


def _check_finite(model: nn.Module, epoch: int, checkpoint: Path | None) -> None:
    """Stop at the first epoch whose parameters are not all finite (never train on NaN)."""
    params = [p for p in model.parameters() if p.is_floating_point()]
    if params and bool(torch.stack([p.isfinite().all() for p in params]).all()):
        return
    bad = [n for n, p in model.named_parameters() if not bool(p.isfinite().all())]
    where = f"; the last good state is in {checkpoint}" if checkpoint is not None else ""
    raise FloatingPointError(
        f"epoch {epoch}: model parameters {bad[:5]} became non-finite (NaN or inf); training "
        f"stopped{where}. A lower learning rate lr usually helps."
    )


def _accuracy(model: nn.Module, x: torch.Tensor | None, y: torch.Tensor | None) -> float:
    """Accuracy of the model, NaN without data (e.g. no validation split)."""
    return math.nan if x is None or x.shape[0] == 0 else accuracy(model, x, y)


def _categorical(data: Dataset | Sequence[TensorLike], config: TrainingConfig):
    """The sweep's one-hot decoding (SPEC §4.8): the Dataset's groups under
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
        if constraints is None or constraints.lower is None:  # SPEC §1.2(a)1, §4.5
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
    x, y, x_val, y_val = (None if a is None else torch.as_tensor(a).to(device) for a in arrays)
    x = x.to(dtype)
    x_val = None if x_val is None else x_val.to(dtype)
    return x, y.long(), x_val, None if y_val is None else y_val.long(), constraints


def _save(
    path: Path,
    config: TrainingConfig,
    identity: dict[str, str],
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    rng: torch.Generator,
    dropout: DropoutStream,
    rows: list[dict],
) -> None:
    """Write the checkpoint atomically with its digest, config and data identity."""
    state = {
        "epoch": len(rows),
        "config": config.to_dict(),
        "data": identity,
        "model": model.state_dict(),
        "optimiser": optimiser.state_dict(),
        "rng": rng.get_state(),
        "dropout": dropout.state(),
        "log": rows,
    }
    checkpoints.save(path, state)


def _restore(
    path: Path,
    config: TrainingConfig,
    identity: dict[str, str],
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    rng: torch.Generator,
    dropout: DropoutStream,
) -> list[dict]:
    """Load model, optimiser and RNG states from ``path``; returns the log rows so far."""
    state = checkpoints.load(path)
    checkpoints.check_resumable(path, state, config.to_dict(), identity)
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    rng.set_state(state["rng"])
    dropout.load_state(state["dropout"])
    _check_finite(model, state["epoch"], None)
    return list(state["log"])
