"""One trained cell: build the model, resolve its config, train it (method §0, §1, §3).

The CLI (``cftrain train``), the demo, the benchmarks and the tests all train through
:func:`train_cell`, so "which model, which config, which device" is decided in one place.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import torch

from cftrain import models
from cftrain.data.bundle import Dataset
from cftrain.training import TrainingResult, counterfactual_training
from cftrain.training_config import TrainingConfig, final_config

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when torch sees a GPU, else CPU; ``cuda`` without a GPU is an error."""
    if name not in DEVICES:
        raise ValueError(f"device={name!r}; expected one of {DEVICES}")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device=cuda was requested but torch sees no GPU "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}, "
            f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')}); "
            "use device=auto or cpu, or install a CUDA build of torch (envs/cftrain-gpu.yaml)"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def cell_config(
    dataset: str,
    *,
    objective: str = "full",
    base: str = "final",
    mutability: bool = False,
    seed: int = 0,
    final_options: Mapping[str, object] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> TrainingConfig:
    """The training config of one grid cell.

    base ``final``: the paper's values for ``dataset`` (:func:`final_config`, method §0), with
    ``final_options`` passed on to it; ``default``: the reference's library defaults. Then
    ``overrides`` (the experiment's fixed values, then the cell's grid values) replace fields.
    """
    if base == "final":
        config = final_config(
            dataset, objective, mutability=mutability, seed=seed, **dict(final_options or {})
        )
    elif base == "default":
        config = TrainingConfig(objective=objective, protect_immutable=mutability, seed=seed)
    else:
        raise ValueError(f"base={base!r}; expected 'final' or 'default'")
    return dataclasses.replace(config, **dict(overrides or {}))


def train_cell(
    data: Dataset,
    config: TrainingConfig,
    *,
    model: str = "mlp",
    model_options: Mapping[str, object] | None = None,
    model_seed: int | None = None,
    device: torch.device | str = "cpu",
    checkpoint_dir: str | os.PathLike | None = None,
    quiet: bool = True,
    restart: bool = False,
) -> TrainingResult:
    """Build ``model`` for ``data`` (initial weights from ``model_seed``, default ``config.seed``)
    on ``device`` and train it with ``config``; resumes from ``checkpoint_dir`` if given,
    unless ``restart``."""
    device = resolve_device(device) if isinstance(device, str) else device
    seed = config.seed if model_seed is None else model_seed
    net = models.build(
        model, data.n_features, data.n_classes, seed=seed, **dict(model_options or {})
    )
    return counterfactual_training(
        net.to(device), data, config, checkpoint_dir=checkpoint_dir, quiet=quiet, restart=restart
    )
