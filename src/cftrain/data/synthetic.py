"""The four 2-D synthetic datasets (method §4.1): ``lin_sep``, ``over``, ``circles``, ``moons``.

Each generator follows MLJBase 0.21's ``make_blobs`` / ``make_circles`` / ``make_moons``
(distributions, label layout, parameters). Julia's random streams are not matched, except
for the two blob centres, which decide the LS/OL results (method §4.1).

Decisions:
* Pool of 100 000 points from the data seed (TaijaData seed 42), permuted with the split
  seed (``randperm(Xoshiro(2025))``); the first 3600 rows are train+val, the **last** 900
  of the permuted pool the test set (method §4.1). The generators' own final shuffle is
  skipped: the pool permutation already randomises the order.
* Blob centres (named option ``blob_centres``): ``"reference"`` (default) = the four values
  MLJBase's ``make_blobs`` draws first from Julia 1.11's ``Xoshiro(42)``, emulated in
  :mod:`cftrain.data.julia_rng` — (2.587, −0.452) and (−0.993, 4.063); ``"stream"`` = the
  earlier centres, drawn U([−10, 10]²) from our own stream. Either way ``lin_sep`` and
  ``over`` share the centres (method §4.1 "same seed ⇒ same centres as LS") and the points
  come from our own stream around them.
* Blob labels {1, 2} become {0, 1}. No standardisation (method §4.1).
* Protected feature (method §4.7): the first coordinate, ``x1``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from cftrain.data.bundle import Dataset
from cftrain.data.julia_rng import mljbase_blob_centres
from cftrain.data.splits import assemble, stream

POOL = 100_000
N_TRAIN, N_VAL, N_TEST = 3000, 600, 900
FEATURES = ("x1", "x2")
BLOB_CENTRES = ("reference", "stream")
BLOBS = ("lin_sep", "over")

Generator = Callable[..., tuple[np.ndarray, np.ndarray]]  # (n, rng, **options) -> (x, y)


def make_blobs(
    n: int,
    rng: np.random.Generator,
    *,
    cluster_std: float,
    box: float = 10.0,
    centres: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two isotropic Gaussian blobs around ``centres: (2, 2)`` (default: drawn
    U([-box, box]²) from ``rng``); n split equally, the last centre gets the remainder."""
    if centres is None:
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
        partial(make_blobs, cluster_std=0.5),
        "Linearly separable blobs (make_blobs, std 0.5)",
    ),
    "over": (
        "blobs",
        partial(make_blobs, cluster_std=2.0),
        "Overlapping blobs (make_blobs, std 2.0, same centres as lin_sep)",
    ),
    "circles": ("circles", make_circles, "Circles (make_circles, noise 0.15, factor 0.01)"),
    "moons": ("moons", make_moons, "Moons (make_moons, noise 0.1, shift (1.0, 0.3))"),
}


def centres_for(option: str, seed: int) -> np.ndarray | None:
    """Centres ``(2, 2)`` for ``option`` ∈ :data:`BLOB_CENTRES`; ``None`` = draw from our stream."""
    if option == "reference":
        return mljbase_blob_centres(seed)
    if option == "stream":
        return None
    raise ValueError(f"blob_centres={option!r}; expected one of {BLOB_CENTRES}")


def build(
    name: str, *, n_sigma: float, seed: int, split_seed: int, blob_centres: str = "reference"
) -> Dataset:
    """Synthetic dataset ``name`` from the data seed and the split seed (``blob_centres``:
    see the module notes; ignored by circles and moons)."""
    purpose, generate, about = GENERATORS[name]
    options = {}
    if name in BLOBS:
        options["centres"] = centres_for(blob_centres, seed)
        about = f"{about}, {blob_centres} centres"
    x, y = generate(POOL, stream(seed, purpose), **options)
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
