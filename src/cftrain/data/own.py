"""A researcher's own arrays as a :class:`Dataset`, prepared like the built-in datasets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch

from cftrain.constraints import Constraints
from cftrain.data import splits
from cftrain.data.bundle import Dataset


def from_arrays(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    name: str = "own",
    feature_names: Sequence[str] | None = None,
    mutability: Mapping[str, str] | None = None,
    categorical: Sequence[Sequence[int]] = (),
    val_fraction: float = 0.1,
    n_sigma: float = 2.0,
    split_seed: int | None = None,
    description: str = "user data",
) -> Dataset:
    """A dataset from a user's own arrays, prepared like the built-in ones (method §4).

    ``x_*``: ``(N, D)`` numeric features (stored as float32); ``y_*``: ``(N,)`` class
    labels ``0..K-1``. ``feature_names``: default ``x1..xD``. ``mutability``: feature
    name → ``"none"`` (immutable), ``"increase"``, ``"decrease"`` or ``"both"``; unnamed
    features are free; used when training or evaluating with protection.
    ``categorical``: one-hot column groups as tuples of column indices (the form of
    the ``categorical`` field). The validation split takes ``val_fraction`` of the
    training arrays per class (stratified as method §4.4, seed ``split_seed``, default
    2025); the domain is inferred from the training arrays with ``n_sigma`` (method
    §4.5, 2 as the reference code).
    """
    x, y, xt, yt = _checked_arrays(x_train, y_train, x_test, y_test)
    d = x.shape[1]
    names = tuple(feature_names) if feature_names is not None else _default_names(d)
    if len(names) != d or len(set(names)) != d:
        raise ValueError(
            f"from_arrays: feature_names has {len(names)} entries ({len(set(names))} "
            f"distinct); expected {d} distinct names"
        )
    kinds = dict.fromkeys(names, "both")
    for feature, kind in (mutability or {}).items():
        splits.resolve(names, [feature])
        kinds[feature] = kind
    Constraints(mutability=tuple(kinds.values()))  # validates the kinds
    groups = _groups(categorical, d)
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"from_arrays: val_fraction={val_fraction!r}; expected in [0, 1)")
    n_val = round(val_fraction * x.shape[0])
    ds = splits.assemble(
        name,
        (x, y),
        (xt, yt),
        feature_names=names,
        protected=[n for n, k in kinds.items() if k == "none"],
        sizes=(x.shape[0] - n_val, n_val),
        n_sigma=n_sigma,
        split_seed=splits.SPLIT_SEED if split_seed is None else split_seed,
        about=description,
        categorical=groups,
    )
    return replace(ds, mutability=tuple(kinds.values()) if mutability else None)


def _default_names(d: int) -> tuple[str, ...]:
    return tuple(f"x{i + 1}" for i in range(d))


def _groups(categorical: Sequence[Sequence[int]], d: int) -> tuple[tuple[int, ...], ...]:
    """One-hot groups as sorted index tuples: ≥ 2 columns each, in range, disjoint."""
    groups = tuple(tuple(sorted(int(i) for i in g)) for g in categorical)
    seen: set[int] = set()
    for g in groups:
        if len(g) < 2 or g[0] < 0 or g[-1] >= d or seen & set(g) or len(set(g)) != len(g):
            raise ValueError(
                f"from_arrays: categorical group {g} is not allowed; expected ≥ 2 distinct "
                f"column indices in 0..{d - 1}, no column in two groups"
            )
        seen |= set(g)
    return groups


def _checked_arrays(x_train, y_train, x_test, y_test) -> tuple[np.ndarray, ...]:
    """Shapes, finiteness and labels of ``from_arrays``' inputs → float32 / int64 copies."""
    out = []
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
        y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
        if x.ndim != 2 or x.shape[0] == 0 or not np.issubdtype(x.dtype, np.number):
            raise ValueError(
                f"from_arrays: x_{split} has shape {x.shape} and dtype {x.dtype}; "
                "expected numbers of shape (N, D), N ≥ 1"
            )
        if not np.isfinite(x).all():
            raise ValueError(f"from_arrays: x_{split} has NaN or infinite values")
        if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.number):
            raise ValueError(
                f"from_arrays: y_{split} has shape {y.shape}; expected ({x.shape[0]},) labels"
            )
        if (y != np.round(y)).any() or (y < 0).any():
            raise ValueError(f"from_arrays: y_{split} must hold class labels 0..K-1 (integers ≥ 0)")
        out += [x.astype(np.float32), y.astype(np.int64)]
    if out[0].shape[1] != out[2].shape[1]:
        raise ValueError(
            f"from_arrays: x_train has {out[0].shape[1]} features, x_test {out[2].shape[1]}"
        )
    if np.unique(out[1]).size < 2:
        raise ValueError("from_arrays: y_train has fewer than 2 classes")
    return tuple(out)
