"""MNIST (method §4.3): 784 pixels scaled to [-1, 1], 10 classes.

* Train+val portion: TaijaData ``load_mnist(11000)`` — a class-balanced sample **with
  replacement**, round(11000/10) = 1100 indices per class from the 60 000 training
  images (data seed), sorted back into original order. Validation: method §4.4.
* Test set: the full official 10 000-image test set.
* Pixels ``u/255·2 − 1`` in float32; flattening row-major over the 28×28 image, so
  ``pixel_r_c`` is column ``28·r + c`` (method §4.3, deviations §9 item 14).
* Domain fixed to [-1, 1] (``n_sigma`` is ignored). Protected (method §4.7): the top and
  bottom five pixel rows (r ∈ 0..4 and 23..27), by name.
* IDX decoding is one ``numpy.frombuffer`` per file.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from cftrain.data.bundle import Dataset
from cftrain.data.splits import assemble, stream

N_TRAIN, N_VAL = 10000, 1000
SIDE = 28
FEATURES = tuple(f"pixel_{r}_{c}" for r in range(SIDE) for c in range(SIDE))
PROTECTED_ROWS = (*range(5), *range(SIDE - 5, SIDE))
RAW = {
    "train_x": "mnist/train-images-idx3-ubyte.gz",
    "train_y": "mnist/train-labels-idx1-ubyte.gz",
    "test_x": "mnist/t10k-images-idx3-ubyte.gz",
    "test_y": "mnist/t10k-labels-idx1-ubyte.gz",
}


def read_idx(path: Path) -> np.ndarray:
    """Decode a gzipped IDX file of unsigned bytes into an array of its stated shape."""
    data = gzip.decompress(path.read_bytes())
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (header {data[:4].hex()})")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def scale(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 → (N, 784) float32 in [-1, 1]."""
    return (images.reshape(len(images), -1).astype(np.float32) / 255) * 2 - 1


def balanced_sample(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """round(n / K) indices per class, drawn with replacement, sorted (TaijaData ``subsample``)."""
    classes = np.unique(y)
    per_class = round(n / classes.size)
    picks = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=True) for c in classes]
    return np.sort(np.concatenate(picks))


def build(paths: dict[str, Path], *, n_sigma: float, seed: int, split_seed: int) -> Dataset:
    """MNIST from the four verified IDX files."""
    train_x, train_y = read_idx(paths["train_x"]), read_idx(paths["train_y"])
    rows = balanced_sample(train_y, N_TRAIN + N_VAL, stream(seed, "mnist-sample"))
    protected = [f"pixel_{r}_{c}" for r in PROTECTED_ROWS for c in range(SIDE)]
    return assemble(
        "mnist",
        (scale(train_x[rows]), train_y[rows]),
        (scale(read_idx(paths["test_x"])), read_idx(paths["test_y"])),
        feature_names=FEATURES,
        protected=protected,
        sizes=(N_TRAIN, N_VAL),
        n_sigma=n_sigma,
        split_seed=split_seed,
        about="MNIST (class-balanced sample with replacement of the training images; "
        "official test set), pixels in [-1, 1]",
        bounds=(-1.0, 1.0),
    )
