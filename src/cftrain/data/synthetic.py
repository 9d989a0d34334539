"""The four 2-D synthetic datasets (SPEC §4.1): ``lin_sep``, ``over``, ``circles``, ``moons``.

Each generator follows MLJBase 0.21's ``make_blobs`` / ``make_circles`` / ``make_moons``
(distributions, label layout, parameters); Julia's random streams cannot be matched.

Decisions:
* Pool of 100 000 points from the data seed (TaijaData seed 42), permuted with the split
  seed (``randperm(Xoshiro(2025))``); the first 3600 rows are train+val, the **last** 900
  of the permuted pool the test set (SPEC §4.1). The generators' own final shuffle is
  skipped: the pool permutation already randomises the order.
* ``lin_sep`` and ``over`` draw from the same stream, centres first, so one seed gives
  the same centres (SPEC §4.1 "same seed ⇒ same centres as LS").
* Blob labels {1, 2} become {0, 1}. No standardisation (SPEC §4.1).
* Protected feature (SPEC §4.7): the first coordinate, ``x1``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cftrain.data.bundle import Dataset
from cftrain.data.splits import assemble, stream

POOL = 100_000
N_TRAIN, N_VAL, N_TEST = 3000, 600, 900
FEATURES = ("x1", "x2")

Generator = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def make_blobs(
    n: int, rng: np.random.Generator, *, cluster_std: float, box: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two isotropic Gaussian blobs, centres ~ U([-box, box]²); n split equally."""
    centres = rng.uniform(-box, box, size=(2, 2))
    y = np.repeat([0, 1], [n // 2, n - n // 2])
    x = rng.standard_normal((n, 2)) * cluster_std + centres[y]
    return x, y


def make_circles(
    n: int, rng: np.random.Generator, *, noise: float = 0.15, factor: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """First ⌊n/2⌋ points (label 0) on radius ``factor``, the rest (label 1) on radius 1."""
    theta = rng.uniform(0.0, 2 * np.pi, size=n)
    x = np.column_stack([np.cos(theta), np.sin(theta)])
    n0 = n // 2
    x[:n0] *= factor
    y = np.repeat([0, 1], [n0, n - n0])
    return x + noise * rng.standard_normal((n, 2)), y


def make_moons(
    n: int,
    rng: np.random.Generator,
    *,
    noise: float = 0.1,
    xshift: float = 1.0,
    yshift: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Upper half-circle (label 0) and lower half-circle shifted by (xshift, yshift)."""
    n1 = n // 2
    n2 = n - n1
    theta = rng.uniform(0.0, np.pi, size=n)
    theta[n2:] *= -1
    x = np.column_stack([np.cos(theta), np.sin(theta)])
    x[n2:] += (xshift, yshift)
    y = np.repeat([0, 1], [n1, n - n1])
    return x + noise * rng.standard_normal((n, 2)), y


GENERATORS: dict[str, tuple[str, Generator, str]] = {
    "lin_sep": (
        "blobs",
        lambda n, rng: make_blobs(n, rng, cluster_std=0.5),
        "Linearly separable blobs (make_blobs, std 0.5)",
    ),
    "over": (
        "blobs",
        lambda n, rng: make_blobs(n, rng, cluster_std=2.0),
        "Overlapping blobs (make_blobs, std 2.0, same centres as lin_sep)",
    ),
    "circles": ("circles", make_circles, "Circles (make_circles, noise 0.15, factor 0.01)"),
    "moons": ("moons", make_moons, "Moons (make_moons, noise 0.1, shift (1.0, 0.3))"),
}


def build(name: str, *, n_sigma: float, seed: int, split_seed: int) -> Dataset:
    """Synthetic dataset ``name`` from the data seed and the split seed."""
    purpose, generate, about = GENERATORS[name]
    x, y = generate(POOL, stream(seed, purpose))
    order = stream(split_seed, "pool-shuffle").permutation(POOL)
    portion, test = order[: N_TRAIN + N_VAL], order[-N_TEST:]
    return assemble(
        name,
        (x[portion], y[portion]),
        (x[test], y[test]),
        feature_names=FEATURES,
        protected=("x1",),
        sizes=(N_TRAIN, N_VAL),
        n_sigma=n_sigma,
        split_seed=split_seed,
        about=f"{about}; synthetic, pool {POOL} from seed {seed}",
    )
