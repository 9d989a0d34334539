"""Model modes (issue 12): dropout and batch-norm models search, train and evaluate correctly."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from cftrain.data import from_arrays
from cftrain.evaluation import benchmark_dataset, eval_settings
from cftrain.evaluation.performance import accuracy
from cftrain.generators import ECCo
from cftrain.modes import eval_mode, train_mode
from cftrain.search import search
from cftrain.training import TrainingConfig, counterfactual_training


def _blobs(n: int = 300, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    return torch.randn(n, 4, generator=g) + 1.5 * y[:, None].float(), y


def _dropout_mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 64), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(64, 2),
    )  # fmt: skip


def _batchnorm_mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(4, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2)
    )  # fmt: skip


def _train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 4):
    cfg = TrainingConfig(nepochs=epochs, batch_size=30, nce=60, tau=0.6, lr=0.01, seed=3)
    return counterfactual_training(model, (x, y), cfg, quiet=True)


def test_eval_and_train_mode_restore_every_submodule():
    model = _dropout_mlp()
    model.train()
    model[2].eval()  # a mixed state must come back exactly
    before = [m.training for m in model.modules()]
    with eval_mode(model):
        assert not any(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before
    with train_mode(model):
        assert all(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == before


def test_dropout_model_searched_in_train_mode_gives_valid_converged_counterfactuals():
    x, y = _blobs()
    model = _train(_dropout_mlp(), x, y).model
    model.train()  # as a user's model may be left after their own training loop
    res = search(model, x[:200], 1 - y[:200], ECCo(0.0, 1.0), tau=0.9, max_iter=60)
    assert model.training  # the caller's mode is restored
    assert int(res.converged.sum()) > 50
    with eval_mode(model), torch.no_grad():
        prob = model(res.counterfactuals).softmax(1).gather(1, (1 - y[:200])[:, None])[:, 0]
    assert bool((prob[res.converged] >= 0.9).all())


def test_dropout_model_logged_accuracy_is_the_eval_mode_accuracy():
    x, y = _blobs()
    model = _dropout_mlp()
    model.train()
    result = _train(model, x, y)
    assert model.training  # training restored the mode it was given
    with eval_mode(model):
        expected = accuracy(model, x, y)
    assert result.log["accuracy"].iloc[-1] == expected


def test_dropout_models_give_identical_benchmark_tables_for_the_same_seed():
    x, y = _blobs(400)
    ds = from_arrays(x[:300].numpy(), y[:300].numpy(), x[300:].numpy(), y[300:].numpy())
    models = {"vanilla": _dropout_mlp(1), "full": _dropout_mlp(2)}
    for m in models.values():
        m.train()
    kwargs = {"experiment": "t", "n_individuals": 20, "n_runs": 3, "seed": 5}
    first = benchmark_dataset(ds, models, eval_settings(lambdas=(1.0,)), **kwargs)
    second = benchmark_dataset(ds, models, eval_settings(lambdas=(1.0,)), **kwargs)
    pd.testing.assert_frame_equal(first, second)
    assert all(m.training for m in models.values())


@pytest.fixture(scope="module")
def batchnorm_model():
    x, y = _blobs()
    result = _train(_batchnorm_mlp(), x, y, epochs=6)
    return result, x, y


def test_batchnorm_model_trains_and_updates_running_statistics(batchnorm_model):
    result, _, _ = batchnorm_model
    bn = result.model[1]
    assert int(bn.num_batches_tracked) > 0
    assert not torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert result.log["accuracy"].iloc[-1] > 0.8


def test_batchnorm_search_row_alone_equals_row_in_batch_and_leaves_buffers():
    x, y = _blobs()
    model = _batchnorm_mlp()
    with torch.no_grad():
        model(x)  # running statistics as after some training; the model stays in train mode
    state = {k: v.clone() for k, v in model.state_dict().items()}
    target = 1 - y[:50]
    batch = search(model, x[:50], target, ECCo(0.0, 1.0), tau=0.9, max_iter=40)
    alone = search(model, x[7:8], target[7:8], ECCo(0.0, 1.0), tau=0.9, max_iter=40)
    torch.testing.assert_close(batch.counterfactuals[7:8], alone.counterfactuals, atol=1e-6, rtol=0)
    assert int(batch.iterations[7]) == int(alone.iterations[0])
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key  # parameters and buffers, bit for bit
    assert model.training


def test_attacks_and_integrated_gradients_read_a_dropout_model_in_eval_mode():
    from cftrain.evaluation.attribution import protected_sensitivity_rounds
    from cftrain.evaluation.robustness import robustness_curves

    x, y = _blobs(100)
    model = _dropout_mlp()
    model.train()
    eps = torch.tensor([0.0, 0.5])
    curves = [robustness_curves({"m": model}, x, y, seed=1, epsilons=eps) for _ in range(2)]
    pd.testing.assert_frame_equal(*curves)
    with eval_mode(model):
        clean = accuracy(model, x, y)
    assert curves[0]["accuracy"].iloc[0] == clean  # ε = 0 is the eval-mode accuracy
    rounds = [
        protected_sensitivity_rounds(model, x, y, [0], absolute=False, n_rounds=5, sample_size=50)
        for _ in range(2)
    ]
    assert torch.equal(*rounds)
    assert model.training
