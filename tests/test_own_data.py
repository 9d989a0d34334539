"""A researcher's own data (issue 12): from_arrays, inferred domains, honest constraints,
aggregation of zero-baseline runs, and the warning when CT's divergence term is inactive."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from cftrain import training
from cftrain.constraints import Constraints
from cftrain.data import from_arrays
from cftrain.data.splits import infer_domain
from cftrain.evaluation import reduction_table
from cftrain.evaluation.counterfactual_metrics import constraint_violations
from cftrain.generators import ECCo
from cftrain.models import build
from cftrain.search import search
from cftrain.training import TrainingConfig, counterfactual_training


def _arrays(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 5)) + y[:, None]
    x[:, 2:5] = np.eye(3)[rng.integers(0, 3, n)]  # one one-hot group, columns 2..4
    return x, y


def test_from_arrays_round_trip():
    x, y = _arrays()
    names = ("age", "income", "a", "b", "c")
    ds = from_arrays(
        x[:300], y[:300], x[300:], y[300:], name="mine", feature_names=names,
        mutability={"age": "none", "income": "increase"}, categorical=[(2, 3, 4)],
        val_fraction=0.2,
    )  # fmt: skip
    # the train+val split partitions the training arrays, stratified by class
    both = np.concatenate([ds.x_train, ds.x_val])
    order = np.lexsort(both.T[::-1])
    expected = x[:300].astype(np.float32)
    np.testing.assert_array_equal(both[order], expected[np.lexsort(expected.T[::-1])])
    assert 55 <= ds.x_val.shape[0] <= 60
    for c in range(3):
        share = (ds.y_val == c).mean() - (y[:300] == c).mean()
        assert abs(share) < 0.02
    np.testing.assert_array_equal(ds.x_test, x[300:].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, y[300:])
    # method §4.5: domain from the training arrays (train+val portion), n_σ = 2
    lower, upper = infer_domain(x[:300].astype(np.float32), 2.0)
    np.testing.assert_array_equal(ds.lower, lower)
    np.testing.assert_array_equal(ds.upper, upper)
    assert ds.name == "mine" and ds.feature_names == names and ds.n_classes == 3
    assert ds.protected == (0,) and ds.categorical == ((2, 3, 4),)
    assert ds.constraints(protect=True).mutability == ("none", "increase", "both", "both", "both")
    assert ds.constraints().mutability is None


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"feature_names": ("a", "b")}, "feature_names"),
        ({"mutability": {"nope": "none"}}, "nope"),
        ({"mutability": {"x1": "frozen"}}, "frozen"),
        ({"categorical": [(2,)]}, "categorical group (2,)"),
        ({"categorical": [(2, 3), (3, 4)]}, "categorical group (3, 4)"),
        ({"val_fraction": 1.0}, "val_fraction"),
    ],
)
def test_from_arrays_refuses_bad_arguments_naming_them(kwargs, words):
    x, y = _arrays()
    with pytest.raises((ValueError, KeyError)) as info:
        from_arrays(x[:300], y[:300], x[300:], y[300:], **kwargs)
    assert words in str(info.value)


def test_raw_tensor_training_infers_the_domain(monkeypatch):
    x, y = _arrays()
    seen = []
    real = training.sweep_cells

    def spy(model, xs, *args, **kwargs):
        seen.append(args[4])  # the constraints the sweep searches with
        return real(model, xs, *args, **kwargs)

    monkeypatch.setattr(training, "sweep_cells", spy)
    xt = torch.as_tensor(x, dtype=torch.float32)
    cfg = TrainingConfig(nepochs=1, batch_size=100, nce=40)
    counterfactual_training(build("mlp", 5, 3), (xt, torch.as_tensor(y)), cfg, quiet=True)
    lower, upper = infer_domain(xt.numpy(), 2.0)
    assert torch.equal(seen[0].lower, torch.from_numpy(lower))
    assert torch.equal(seen[0].upper, torch.from_numpy(upper))


def test_a_protected_feature_outside_the_domain_stays_unchanged():
    model = build("mlp", 2, 2, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g)
    x[:, 0] = torch.linspace(3.0, 9.4, 40)  # far above the domain's upper bound 2
    x[:, 1] = torch.linspace(-2.5, -1.5, 40)  # increase-only, partly below the lower bound
    constraints = Constraints(
        lower=torch.tensor([-2.0, -2.0]), upper=torch.tensor([2.0, 2.0]),
        mutability=("none", "increase"),
    )  # fmt: skip
    target = 1 - model(x).argmax(1)
    res = search(model, x, target, ECCo(0.0, 1.0), constraints, tau=0.99, max_iter=30)
    assert torch.equal(res.counterfactuals[:, 0], x[:, 0])
    assert bool((res.counterfactuals[:, 1] >= x[:, 1]).all())
    flags = constraint_violations(x, res.counterfactuals, constraints)
    assert not bool(flags["immutable_moved"].any()) and not bool(flags["direction_violated"].any())


def _table(bl_mmd: list[float], ct_mmd: list[float]) -> pd.DataFrame:
    rows = []
    for model, values in (("vanilla", bl_mmd), ("full", ct_mmd)):
        for run, v in enumerate(values):
            rows.append(
                {"dataset": "d", "experiment": "e", "model": model, "run": run,
                 "lambda_energy": 1.0, "validity": True, "ip": 1.0, "mmd": v, "cost": 1.0}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_a_run_with_zero_baseline_mmd_stays_in_the_interval():
    bl = [0.0, 0.2, 0.3, 0.4, 0.5]
    ct = [0.1, 0.1, 0.1, 0.2, 0.2]
    red = reduction_table(_table(bl, ct), metrics=("mmd",), average=False).iloc[0]
    delta = np.subtract(ct, bl)
    lo, hi = np.quantile(delta, [0.005, 0.995])
    assert red["n_runs"] == 5 and red["n_dropped_runs"] == 0 and red["n_undefined_ratios"] == 1
    assert red["ci_low"] == pytest.approx(lo) and red["ci_high"] == pytest.approx(hi)
    ratios = np.divide(ct[1:], bl[1:])
    assert red["value"] == pytest.approx((1 - ratios.mean()) * 100)
    assert red["std"] == pytest.approx(100 * ratios.std(ddof=1))
    assert red["bl_mean"] == pytest.approx(np.mean(bl)) and red["ct_mean"] == pytest.approx(0.14)


def _maturity_warnings(**overrides) -> list[str]:
    x, y = _arrays()
    cfg = TrainingConfig(**{"nepochs": 7, "batch_size": 100, "nce": 40, **overrides})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = counterfactual_training(build("mlp", 5, 3), (x, y), cfg, quiet=True)
    messages = [str(w.message) for w in caught if "matured" in str(w.message)]
    return messages, result.log


def test_warning_once_when_counterfactuals_do_not_mature():
    messages, log = _maturity_warnings(tau=0.999, max_iter=1)
    assert (log["percent_mature"] < 5).all()
    assert len(messages) == 1  # once per run, not once per epoch
    assert messages[0].startswith("epochs 1-5:")
    for hint in ("tau", "max_iter", "nce", "divergence term"):
        assert hint in messages[0]


def test_no_warning_when_counterfactuals_mature_or_during_burn_in():
    messages, log = _maturity_warnings(tau=0.4, max_iter=100)
    assert (log["percent_mature"] > 5).all() and not messages
    messages, _ = _maturity_warnings(tau=0.999, max_iter=1, burnin=0.5)  # 4 sweep epochs only
    assert not messages
