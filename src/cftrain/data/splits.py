"""Validation split, domain inference and assembly of the :class:`Dataset` bundle.

* Validation split (method §4.4, CE.jl ``train_test_split(...; keep_class_ratio=true)``):
  ``val_frac = n_val / (n_val + n_train)`` with the *configured* sizes of method §0; for
  each class ``floor(val_frac · (n_c / N) · N)`` indices without replacement (evaluated
  in this order in float64, as Julia does, so the floors match the reference); the
  validation indices sorted; training = the rest in original order. The floors make
  the validation set one or two points short of ``n_val`` for most class counts (e.g.
  599 of 600 for synthetic data): that is what the reference trained with.
* Domain bounds (method §4.5, deviations §9 item 2): inferred once from the train+val portion before
  the validation split, ``[min(μ − n_σ·σ, min), max(μ + n_σ·σ, max)]`` with the sample
  std, computed in float64 on the float32 features. MNIST passes fixed bounds instead.
* Randomness: every random draw uses its own generator from :func:`stream`, keyed by a
  seed and a purpose, so no two purposes share a stream and nothing touches global
  state. Data seed 42 and split seed 2025 are the defaults (method §4).
* Protected features (method §4.7) are resolved from feature names.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from cftrain.data.bundle import Dataset

DATA_SEED = 42
SPLIT_SEED = 2025


def stream(seed: int, purpose: str) -> np.random.Generator:
    """Independent generator for one purpose (e.g. "val-split") under ``seed``."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def stratified_val_split(
    y: np.ndarray, n_train: int, n_val: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) index arrays, both in original order (method §4.4)."""
    n = y.size
    val_frac = n_val / (n_val + n_train)
    parts = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        k = math.floor(val_frac * (members.size / n) * n)
        parts.append(rng.choice(members, size=k, replace=False))
    val = np.sort(np.concatenate(parts))
    return np.setdiff1d(np.arange(n), val, assume_unique=True), val


def infer_domain(x: np.ndarray, n_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature bounds ``[min(μ − n_σσ, min), max(μ + n_σσ, max)]`` (method §4.5)."""
    x64 = np.asarray(x, dtype=np.float64)
    mu = x64.mean(axis=0)
    sd = x64.std(axis=0, ddof=1)
    lower = np.minimum(mu - n_sigma * sd, x64.min(axis=0))
    upper = np.maximum(mu + n_sigma * sd, x64.max(axis=0))
    return lower.astype(np.float32), upper.astype(np.float32)


def resolve(feature_names: Sequence[str], names: Sequence[str]) -> tuple[int, ...]:
    """Column indices of ``names``; a missing name is an error, not a silent skip."""
    index = {n: i for i, n in enumerate(feature_names)}
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError(f"features {missing} not among {list(feature_names)[:12]}…")
    return tuple(sorted(index[n] for n in names))


def assemble(
    name: str,
    portion: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    feature_names: Sequence[str],
    protected: Sequence[str],
    sizes: tuple[int, int],
    n_sigma: float,
    split_seed: int,
    about: str,
    categorical: tuple[tuple[int, ...], ...] = (),
    bounds: tuple[float, float] | None = None,
) -> Dataset:
    """Split the train+val ``portion``, infer the domain, and build the bundle.

    ``sizes`` = the configured (n_train, n_val) of method §0; ``bounds`` fixes the domain
    (MNIST) instead of inferring it from the portion with ``n_sigma``.
    """
    x, y = np.asarray(portion[0], np.float32), np.asarray(portion[1], np.int64)
    x_test, y_test = np.asarray(test[0], np.float32), np.asarray(test[1], np.int64)
    if bounds is None:
        lower, upper = infer_domain(x, n_sigma)
    else:
        lower = np.full(x.shape[1], bounds[0], np.float32)
        upper = np.full(x.shape[1], bounds[1], np.float32)
    train, val = stratified_val_split(y, *sizes, stream(split_seed, "val-split"))
    n_classes = int(max(y.max(), y_test.max())) + 1
    counts = {
        split: np.bincount(labels, minlength=n_classes).tolist()
        for split, labels in (("train", y[train]), ("val", y[val]), ("test", y_test))
    }
    total = np.bincount(np.concatenate([y, y_test]), minlength=n_classes).tolist()
    description = (
        f"{about}. {train.size} train / {val.size} val / {y_test.size} test, "
        f"{x.shape[1]} features, {n_classes} classes; class counts over all splits {total}."
    )
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x[train]),
        y_train=y[train],
        x_val=np.ascontiguousarray(x[val]),
        y_val=y[val],
        x_test=x_test,
        y_test=y_test,
        feature_names=tuple(feature_names),
        lower=lower,
        upper=upper,
        protected=resolve(feature_names, protected),
        n_classes=n_classes,
        categorical=categorical,
        description=description,
        meta={"class_counts": counts, "configured_sizes": list(sizes)},
    )
