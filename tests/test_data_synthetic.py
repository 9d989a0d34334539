"""Synthetic datasets (method §4.1), the validation split (§4.4) and domain bounds (§4.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cftrain.data import DATASETS, load
from cftrain.data.splits import infer_domain, stratified_val_split, stream

SYNTHETIC = ("lin_sep", "over", "circles", "moons")


def build(name: str, *, seed: int = 42, split_seed: int = 2025, n_sigma: float = 2.0):
    return DATASETS[name].build({}, n_sigma=n_sigma, seed=seed, split_seed=split_seed)


def everything(ds) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([ds.x_train, ds.x_val, ds.x_test]),
        np.concatenate([ds.y_train, ds.y_val, ds.y_test]),
    )


@pytest.mark.parametrize("name", SYNTHETIC)
def test_sizes_types_and_protection(name: str) -> None:
    ds = build(name)
    assert len(ds.y_train) + len(ds.y_val) == 3600
    assert len(ds.y_test) == 900
    # method §4.4: floor per class, so the validation set may fall 1 short of 600.
    assert 599 <= len(ds.y_val) <= 600
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.shape[1] == 2 and ds.n_classes == 2
    assert set(np.unique(ds.y_train)) == {0, 1}
    assert [ds.feature_names[i] for i in ds.protected] == ["x1"]
    assert ds.constraints(protect=True).mutability == ("none", "both")


@pytest.mark.parametrize("name", SYNTHETIC)
def test_reproducible_from_seed_and_different_across_seeds(name: str) -> None:
    a, b = build(name), build(name)
    for field in ("x_train", "y_train", "x_val", "x_test", "lower", "upper"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    other = build(name, seed=7)
    assert not np.array_equal(a.x_train, other.x_train)
    reshuffled = build(name, split_seed=1)
    assert not np.array_equal(a.x_test, reshuffled.x_test)


def test_load_goes_through_the_cache_unchanged(tmp_path) -> None:
    built = build("moons")
    first = load("moons", cache_dir=tmp_path)
    again = load("moons", cache_dir=tmp_path)
    assert len(list((tmp_path / "processed").glob("moons-*.npz"))) == 1
    for ds in (first, again):
        np.testing.assert_array_equal(ds.x_train, built.x_train)
        np.testing.assert_array_equal(ds.y_val, built.y_val)
        assert ds.protected == built.protected and ds.feature_names == built.feature_names


def test_blobs_share_centres_and_differ_in_spread() -> None:
    (xs, ys), (xo, yo) = everything(build("lin_sep")), everything(build("over"))
    for c in (0, 1):
        assert np.linalg.norm(xs[ys == c].mean(0) - xo[yo == c].mean(0)) < 0.3
        assert xs[ys == c].std(0) == pytest.approx([0.5, 0.5], abs=0.05)
        assert xo[yo == c].std(0) == pytest.approx([2.0, 2.0], abs=0.2)


def test_circles_radii() -> None:
    x, y = everything(build("circles"))
    radius = np.linalg.norm(x, axis=1)
    # Inner circle (radius 0.01) blurred by N(0, 0.15²) noise: mean radius ≈ 0.15·√(π/2).
    assert radius[y == 0].mean() == pytest.approx(0.15 * math.sqrt(math.pi / 2), abs=0.02)
    assert radius[y == 1].mean() == pytest.approx(1.0, abs=0.03)


def test_moons_halves() -> None:
    x, y = everything(build("moons"))
    # Upper half-circle: mean (0, 2/π); lower one shifted by (1, 0.3): mean (1, 0.3 − 2/π).
    assert x[y == 0].mean(0) == pytest.approx([0.0, 2 / math.pi], abs=0.05)
    assert x[y == 1].mean(0) == pytest.approx([1.0, 0.3 - 2 / math.pi], abs=0.05)


@pytest.mark.parametrize("n_sigma", [2.0, 3.0])
def test_domain_bounds_follow_the_formula(n_sigma: float) -> None:
    ds = build("over", n_sigma=n_sigma)
    portion = np.concatenate([ds.x_train, ds.x_val]).astype(np.float64)
    for d in range(2):
        col = portion[:, d]
        mu, sd = col.mean(), col.std(ddof=1)
        assert ds.lower[d] == pytest.approx(min(mu - n_sigma * sd, col.min()), rel=1e-6)
        assert ds.upper[d] == pytest.approx(max(mu + n_sigma * sd, col.max()), rel=1e-6)
    narrow = build("over", n_sigma=0.0)
    np.testing.assert_allclose(narrow.lower, portion.min(0), rtol=1e-6)
    np.testing.assert_allclose(narrow.upper, portion.max(0), rtol=1e-6)


def test_infer_domain_keeps_extremes_inside() -> None:
    x = np.array([[0.0], [0.0], [0.0], [10.0]], dtype=np.float32)  # max beyond μ + 1σ
    lower, upper = infer_domain(x, 1.0)
    assert upper[0] == 10.0
    assert lower[0] == pytest.approx(2.5 - 5.0)


def test_stratified_val_split() -> None:
    y = np.repeat([0, 1, 2], [500, 300, 205])
    train, val = stratified_val_split(y, n_train=900, n_val=100, rng=stream(0, "t"))
    frac = 100 / 1000
    for c, n_c in enumerate((500, 300, 205)):
        assert (y[val] == c).sum() == math.floor(frac * (n_c / y.size) * y.size)
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert np.intersect1d(train, val).size == 0 and train.size + val.size == y.size
    again, _ = stratified_val_split(y, n_train=900, n_val=100, rng=stream(0, "t"))
    np.testing.assert_array_equal(train, again)
    other, _ = stratified_val_split(y, n_train=900, n_val=100, rng=stream(1, "t"))
    assert not np.array_equal(train, other)


def test_unknown_name_lists_valid_ones(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"valid names: lin_sep, .*, mnist"):
        load("iris", cache_dir=tmp_path)
    assert list(DATASETS) == [*SYNTHETIC, "adult", "cali", "credit", "gmsc", "mnist"]
