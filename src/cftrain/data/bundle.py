"""The dataset bundle every later stage consumes (training, evaluation, workflow rules)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from cftrain import validation
from cftrain.constraints import Constraints


@dataclass(frozen=True)
class Dataset:
    """One dataset, split and preprocessed as in method §4.

    Arrays: features float32 ``(N, D)``, labels int64 ``(N,)`` in ``0..n_classes-1``.
    ``lower``/``upper``: ``(D,)`` domain bounds (method §4.5).
    ``protected``: indices of the features made immutable in the paper's protection
    experiments (method §4.7), resolved from feature names.
    ``categorical``: one-hot column groups (lists of column indices), empty if none.
    ``mutability``: one kind of ``MUTABILITY_KINDS`` per feature for the protection runs;
    ``None`` means the ``protected`` features immutable and the rest free.
    A user's own data: :func:`cftrain.data.own.from_arrays`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    protected: tuple[int, ...]
    n_classes: int
    categorical: tuple[tuple[int, ...], ...] = ()
    description: str = ""
    meta: dict = field(default_factory=dict)
    mutability: tuple[str, ...] | None = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def constraints(self, protect: bool = False) -> Constraints:
        """Domain bounds, plus the protected features immutable when ``protect`` (or the
        full ``mutability``, where given)."""
        validation.check("Dataset.constraints", "protect", protect, validation.Flag)
        if protect and self.mutability is not None:
            return Constraints(
                lower=torch.from_numpy(np.asarray(self.lower, dtype=np.float32)),
                upper=torch.from_numpy(np.asarray(self.upper, dtype=np.float32)),
                mutability=self.mutability,
            )
        return Constraints.from_immutable(
            self.n_features,
            self.protected if protect else (),
            lower=torch.from_numpy(np.asarray(self.lower, dtype=np.float32)),
            upper=torch.from_numpy(np.asarray(self.upper, dtype=np.float32)),
        )

    def tensors(
        self, split: str, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` of ``split`` ∈ {train, val, test} as tensors on ``device``."""
        if split not in ("train", "val", "test"):
            raise ValueError(f"split={split!r}; expected 'train', 'val' or 'test'")
        x = getattr(self, f"x_{split}")
        y = getattr(self, f"y_{split}")
        return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
