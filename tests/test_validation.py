"""Validated input (issue 12): each bad input is refused with a message naming the argument and
value; tensors a user may hold (NumPy, integer, float64) are converted, float64 models work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cftrain.constraints import Constraints
from cftrain.data import Dataset, from_arrays
from cftrain.evaluation import benchmark_dataset, eval_settings, reduction_table
from cftrain.evaluation.protocol import EvalSetting, benchmark
from cftrain.generators import ECCo
from cftrain.models import build
from cftrain.search import search
from cftrain.training import TrainingConfig, counterfactual_training

D, K = 3, 2


def _setup(n: int = 8):
    g = torch.Generator().manual_seed(0)
    return build("mlp", D, K, seed=0), torch.randn(n, D, generator=g), torch.arange(n) % K


def _search(**changes):
    model, x, target = _setup()
    args = {"model": model, "x": x, "target": target, "generator": ECCo(), **changes}
    settings = {k: args.pop(k) for k in ("tau", "max_iter", "step_size", "ae_epsilon") if k in args}
    constraints = args.pop("constraints", None)
    return search(*args.values(), constraints, **settings)


# (case, call, error type, words the message must contain: the argument and the value)
BAD_SEARCH = [
    ("tau above 1", {"tau": 1.5}, ValueError, ["tau", "1.5", "(0, 1]"]),
    ("tau zero", {"tau": 0.0}, ValueError, ["tau", "0.0"]),
    ("tau negative", {"tau": -0.2}, ValueError, ["tau", "-0.2"]),
    ("max_iter zero", {"max_iter": 0}, ValueError, ["max_iter", "0", "≥ 1"]),
    ("max_iter negative", {"max_iter": -3}, ValueError, ["max_iter", "-3"]),
    ("max_iter float", {"max_iter": 2.5}, TypeError, ["max_iter", "2.5", "integer"]),
    ("negative step", {"step_size": -0.1}, ValueError, ["step_size", "-0.1", "> 0"]),
    ("zero step", {"step_size": 0}, ValueError, ["step_size", "0"]),
    ("negative ae_epsilon", {"ae_epsilon": -1.0}, ValueError, ["ae_epsilon", "-1.0"]),
    ("float target", {"target": torch.full((8,), 0.7)}, ValueError, ["target", "0.7"]),
    ("target too large", {"target": torch.full((8,), 2)}, ValueError, ["target", "[2]", "0..1"]),
    ("target negative", {"target": torch.full((8,), -1)}, ValueError, ["target", "[-1]"]),
    ("target wrong length", {"target": torch.zeros(5)}, ValueError, ["target", "(5,)", "(8,)"]),
    ("x too wide", {"x": torch.randn(8, D + 1)}, ValueError, ["x", "(8, 4)"]),
    ("x one-dimensional", {"x": torch.randn(8)}, ValueError, ["x", "(8,)", "(N, D)"]),
    (
        "empty batch",
        {"x": torch.randn(0, D), "target": torch.zeros(0)},
        ValueError,
        ["x", "(0, 3)", "N ≥ 1"],
    ),
    (
        "constraints of another width",
        {"constraints": Constraints(lower=-torch.ones(4), upper=torch.ones(4))},
        ValueError,
        ["x has 3 features", "constraints describe 4"],
    ),
    ("model not a module", {"model": lambda x: x}, TypeError, ["model", "torch.nn.Module"]),
]


@pytest.mark.parametrize(
    ("changes", "error", "words"), [c[1:] for c in BAD_SEARCH], ids=[c[0] for c in BAD_SEARCH]
)
def test_search_refuses_bad_input_naming_it(changes, error, words):
    with pytest.raises(error) as info:
        _search(**changes)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


BAD_CONFIG = [
    ("protect_immutable string", {"protect_immutable": "no"}, TypeError),
    ("nepochs float", {"nepochs": 2.5}, TypeError),
    ("seed string", {"seed": "a"}, TypeError),
    ("step_size zero", {"step_size": 0}, ValueError),
    ("negative lambda_div", {"lambda_div": -0.5}, ValueError),
    ("negative lambda_adv", {"lambda_adv": -1.0}, ValueError),
    ("negative ae_epsilon", {"ae_epsilon": -0.1}, ValueError),
    ("tau above 1", {"tau": 1.5}, ValueError),
    ("zero lr", {"lr": 0.0}, ValueError),
]


@pytest.mark.parametrize(
    ("changes", "error"), [c[1:] for c in BAD_CONFIG], ids=[c[0] for c in BAD_CONFIG]
)
def test_training_config_is_strict(changes, error):
    ((name, value),) = changes.items()
    with pytest.raises(error, match=rf"TrainingConfig: {name}={value!r}") as info:
        TrainingConfig(**changes)
    assert "expected" in str(info.value)


def test_json_string_false_is_not_a_true_protect_immutable():
    text = (
        TrainingConfig()
        .to_json()
        .replace('"protect_immutable": false', '"protect_immutable": "false"')
    )
    with pytest.raises(TypeError, match="protect_immutable='false'"):
        TrainingConfig.from_json(text)


def test_ints_given_for_float_fields_are_accepted_and_stored_as_floats():
    cfg = TrainingConfig(lr=1, lambda_div=0, burnin=0)
    assert isinstance(cfg.lr, float) and cfg.lr == 1.0
    assert TrainingConfig.from_json(cfg.to_json()) == cfg


def _dataset(n: int = 120) -> Dataset:
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, K, (n,), generator=g)
    x = torch.randn(n, D, generator=g) + 2.0 * y[:, None].float()
    return from_arrays(x[:90].numpy(), y[:90].numpy(), x[90:].numpy(), y[90:].numpy())


BAD_BENCHMARK = [
    ("no models", {"models": {}}, ValueError, "models={}"),
    ("not a model", {"models": {"vanilla": "model"}}, TypeError, "models['vanilla']"),
    ("no settings", {"settings": []}, ValueError, "settings"),
    ("zero runs", {"n_runs": 0}, ValueError, "n_runs=0"),
    ("zero individuals", {"n_individuals": 0}, ValueError, "n_individuals=0"),
    ("float runs", {"n_runs": 2.0}, TypeError, "n_runs=2.0"),
]


@pytest.mark.parametrize(
    ("changes", "error", "words"), [c[1:] for c in BAD_BENCHMARK], ids=[c[0] for c in BAD_BENCHMARK]
)
def test_benchmark_refuses_bad_input_naming_it(changes, error, words):
    args = {
        "models": {"vanilla": _setup()[0]},
        "settings": eval_settings(lambdas=(1.0,)),
        "n_individuals": 5,  # own data have no paper default size
        "n_runs": 2,
    }
    args.update(changes)
    kwargs = {k: v for k, v in args.items() if k not in ("models", "settings")}
    with pytest.raises(error) as info:
        benchmark_dataset(_dataset(), args["models"], args["settings"], experiment="t", **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: eval_settings(tau=2), "tau=2"),
        (lambda: eval_settings(lambdas=()), "lambdas"),
        (lambda: EvalSetting(lambda_energy=-1.0), "lambda_energy=-1.0"),
        (lambda: EvalSetting(lambda_energy=1.0, max_iter=0), "max_iter=0"),
        (lambda: EvalSetting(lambda_energy=1.0, generator="Wachter"), "generator='Wachter'"),
    ],
)
def test_eval_settings_refuse_bad_values_naming_them(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


def test_reduction_table_without_the_baseline_model_names_the_argument():
    table = pd.DataFrame(
        {"dataset": "d", "experiment": "e", "model": ["BL", "CT"], "run": 0, "lambda_energy": 1.0,
         "validity": True, "ip": 1.0, "mmd": 1.0, "cost": 1.0}
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"treatment='full' is not among .*\['BL', 'CT'\]"):
        reduction_table(table)
    assert reduction_table(table, treatment="CT", baseline="BL")["value"].notna().all()


@pytest.mark.parametrize(
    "convert",
    [lambda x: x.numpy(), lambda x: x.double(), lambda x: x.int()],
    ids=["numpy", "float64 x", "integer x"],
)
def test_search_converts_x_to_the_models_dtype(convert):
    model, x, target = _setup()
    x = (x * 3).round()  # whole numbers: exact in every dtype
    expected = search(model, x, target, ECCo(), max_iter=5)
    got = search(model, convert(x), target.numpy(), ECCo(), max_iter=5)
    assert got.counterfactuals.dtype == torch.float32
    torch.testing.assert_close(got.counterfactuals, expected.counterfactuals, rtol=0, atol=0)


def test_float64_model_trains_searches_and_benchmarks():
    ds = _dataset()
    model = build("mlp", D, K, seed=0).double()
    cfg = TrainingConfig(nepochs=2, batch_size=30, nce=30)
    counterfactual_training(model, ds, cfg, quiet=True)
    x, y = ds.tensors("test")  # float32 data
    res = search(model, x, 1 - y, ECCo(), ds.constraints(), max_iter=5)
    assert res.counterfactuals.dtype == torch.float64
    table = benchmark_dataset(
        ds, {"vanilla": model}, eval_settings(lambdas=(1.0,)), experiment="t", n_runs=2,
        n_individuals=10,
    )  # fmt: skip
    assert len(table) > 0 and np.isfinite(table["cost"]).all()


def test_benchmark_refuses_models_of_different_dtypes():
    ds = _dataset()
    x, y = ds.tensors("test")
    models = {"a": build("mlp", D, K), "b": build("mlp", D, K).double()}
    with pytest.raises(ValueError, match="differ in device or dtype"):
        benchmark(
            models, x, y, eval_settings(lambdas=(1.0,)), n_classes=K, n_individuals=5, n_runs=2
        )
