"""Bad input to the library (issue 26): what was silently wrong or failed obscurely is now
refused with a message naming the argument, the value and what is allowed, or works."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from cftrain import checkpoint, models
from cftrain.constraints import Constraints
from cftrain.data import from_arrays
from cftrain.evaluation import benchmark_dataset, eval_settings, reduction_table
from cftrain.generators import ECCo
from cftrain.search import search
from cftrain.training import TrainingConfig, counterfactual_training


@pytest.fixture(scope="module")
def own():
    """A tiny two-class dataset of one's own (2 features, the second protected)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    x = np.column_stack([rng.normal(2.0 * y, 1.0), rng.normal(0.0, 1.0, 120)])
    return from_arrays(x[:100], y[:100], x[100:], y[100:], mutability={"x2": "none"})


def _search(x: torch.Tensor):
    model = models.build("mlp", 2, 2, seed=0)
    return search(model, x, torch.ones(x.shape[0], dtype=torch.long), ECCo(0.0), max_iter=3)


def _benchmark(own, model: nn.Module):
    settings = eval_settings(lambdas=[1.0])
    return benchmark_dataset(own, {"m": model}, settings, experiment="x", n_individuals=2, n_runs=1)


def _table() -> pd.DataFrame:
    """Two runs of one model, as the evaluation writes them."""
    return pd.DataFrame(
        {"dataset": "d", "experiment": "e", "model": "vanilla", "run": [0, 1],
         "lambda_energy": 1.0, "validity": True, "ip": 1.0, "mmd": 0.1, "cost": 1.0}
    )  # fmt: skip


def _train(model: nn.Module, x: torch.Tensor, **config):
    y = (x[:, 0] > 0).long()
    cfg = TrainingConfig(nepochs=1, batch_size=20, nce=20, **config)
    return counterfactual_training(model, (x, y), cfg, quiet=True)


def _x(rows: int = 60) -> torch.Tensor:
    return torch.randn(rows, 2, generator=torch.Generator().manual_seed(0))


def _with(value: float) -> torch.Tensor:
    x = _x(4)
    x[1, 0] = value
    return x


SILENTLY_WRONG = {
    # each was accepted and gave a wrong result; now (exception, words the message has)
    "protect='no' turned protection on": (
        lambda own: own.constraints(protect="no"),
        TypeError,
        ["Dataset.constraints", "protect='no'", "True or False"],
    ),
    "+inf factual clamped and reported converged": (
        lambda own: _search(_with(math.inf)),
        ValueError,
        ["search: x", "NaN or infinite", "rows [1]"],
    ),
    "NaN factual gave a NaN counterfactual": (
        lambda own: _search(_with(math.nan)),
        ValueError,
        ["search: x", "rows [1]", "finite"],
    ),
    "3-output model on 2 classes": (
        lambda own: _benchmark(own, models.build("mlp", 2, 3, seed=0)),
        ValueError,
        ["models['m']", "3 outputs", "2 classes"],
    ),
    "burn-in covering every epoch: CT never ran, yet a star": (
        lambda own: TrainingConfig(nepochs=1, burnin=0.99),
        ValueError,
        ["burnin=0.99", "nepochs=1", "no epoch after burn-in", "burnin < 0.5"],
    ),
    "treatment equal to the baseline: every reduction 0": (
        lambda own: reduction_table(_table(), treatment="vanilla", baseline="vanilla"),
        ValueError,
        ["treatment='vanilla' equals baseline", "treatment='full'"],
    ),
}


@pytest.mark.parametrize("case", list(SILENTLY_WRONG))
def test_silently_wrong_library_input_is_now_refused(case, own):
    call, error, words = SILENTLY_WRONG[case]
    with pytest.raises(error) as info:
        call(own)
    assert all(w in str(info.value) for w in words), str(info.value)


OBSCURE = {
    # each failed with a message that did not say what was wrong with the input
    "meta-device model (Tensor.item() on meta tensors)": (
        lambda own: _train(models.build("mlp", 2, 2).to("meta"), _x()),
        ValueError,
        ["counterfactual_training: model", "meta device", "to_empty"],
    ),
    "5-input model in benchmark_dataset (mat1 and mat2)": (
        lambda own: _benchmark(own, models.build("mlp", 5, 2, seed=0)),
        ValueError,
        ["models['m']", "cannot take x of shape (20, 2)"],
    ),
    "nn.Identity (empty parameter list)": (
        lambda own: _train(nn.Identity(), _x()),
        ValueError,
        ["Identity", "no trainable parameters"],
    ),
    "protected index out of range (IndexError)": (
        lambda own: Constraints.from_immutable(2, [5]),
        ValueError,
        ["[5]", "0..1"],
    ),
    "negative protected index (froze the last feature)": (
        lambda own: Constraints.from_immutable(2, [-1]),
        ValueError,
        ["[-1]", "0..1"],
    ),
    "NaN row in the training data (only 'non-finite loss, skipped')": (
        lambda own: _train(models.build("mlp", 2, 2), _with(math.nan).repeat(15, 1)),
        ValueError,
        ["counterfactual_training: x_train", "NaN or infinite", "rows [1, 5, 9"],
    ),
}


@pytest.mark.parametrize("case", list(OBSCURE))
def test_obscure_library_errors_now_name_the_input(case, own):
    call, error, words = OBSCURE[case]
    with pytest.raises(error) as info:
        call(own)
    assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.parametrize("with_checkpoint", [False, True])
def test_a_bfloat16_model_trains_with_and_without_a_checkpoint(tmp_path, with_checkpoint):
    """It failed in checkpoint.py even without a checkpoint folder (NumPy has no bfloat16)."""
    model = models.build("mlp", 2, 2, seed=0).to(torch.bfloat16)
    folder = tmp_path if with_checkpoint else None
    y = (_x()[:, 0] > 0).long()
    cfg = TrainingConfig(nepochs=1, batch_size=20, nce=20, max_iter=2)
    log = counterfactual_training(model, (_x(), y), cfg, checkpoint_dir=folder, quiet=True).log
    assert log["epoch"].tolist() == [1] and math.isfinite(log["loss"].item())
    assert next(model.parameters()).dtype == torch.bfloat16
    assert (tmp_path / "checkpoint.pt").is_file() == with_checkpoint
    other = checkpoint.data_identity("d", [_x().to(torch.bfloat16)], None)
    assert other != checkpoint.data_identity("d", [(_x() + 1).to(torch.bfloat16)], None)
