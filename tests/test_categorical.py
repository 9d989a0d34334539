"""One-hot groups in the search (method §4.8): decoding, straight-through, frozen, batching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from cftrain.categorical import Categorical, onehot_validity
from cftrain.constraints import Constraints
from cftrain.data.bundle import Dataset
from cftrain.evaluation import benchmark_dataset, eval_settings, validity_table
from cftrain.generators import ECCo, Generic
from cftrain.models import build
from cftrain.search import search
from cftrain.sweep import run_sweep
from cftrain.training import TrainingConfig, counterfactual_training

GROUPS = ((0, 1, 2), (3, 4), (5,))  # a 3-level and a 2-level category, a binary column
D = 8  # columns 6, 7 continuous


def _factuals(n: int, seed: int) -> torch.Tensor:
    """Valid one-hot groups, a 0/1 binary column, continuous columns in [-2, 2]."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, D)
    x[torch.arange(n), torch.randint(0, 3, (n,), generator=g)] = 1.0
    x[torch.arange(n), 3 + torch.randint(0, 2, (n,), generator=g)] = 1.0
    x[:, 5] = torch.randint(0, 2, (n,), generator=g).float()
    x[:, 6:] = torch.rand(n, 2, generator=g) * 4 - 2
    return x


def _model(seed: int) -> nn.Module:
    """A random MLP scaled ×3 so that targets are reachable and categories matter."""
    model = build("mlp", D, 2, seed=seed)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


def test_snap_takes_the_group_maximum_and_rounds_single_columns():
    cat = Categorical(GROUPS)
    x = torch.tensor(
        [[0.2, 0.9, -0.4, 0.3, 0.1, 0.7, 5.0, -5.0], [1.5, 0.0, 0.2, -1, 2, -0.3, 0, 1]]
    )
    expected = torch.tensor([[0, 1, 0, 1, 0, 1, 5.0, -5.0], [1, 0, 0, 0, 1, 0, 0, 1.0]])
    torch.testing.assert_close(cat.snap(x), expected)
    assert bool(cat.valid(cat.snap(x)).all())
    assert cat.valid(x).tolist() == [False, False]


def test_ties_are_broken_uniformly_with_the_generator():
    cat = Categorical(((0, 1, 2),))
    x = torch.tensor([[0.5, 0.5, 0.1]]).repeat(4000, 1)
    picks = cat.snap(x, torch.Generator().manual_seed(0)).argmax(dim=1)
    share = (picks == 0).float().mean().item()
    assert bool((picks != 2).all()) and 0.46 < share < 0.54
    again = cat.snap(x, torch.Generator().manual_seed(0)).argmax(dim=1)
    assert torch.equal(picks, again)


def test_validity_of_groups():
    x = torch.tensor([[1.0, 0, 0, 0, 1, 1, 0.3, 0], [0.0, 0, 0, 0, 1, 0, 0, 0]])
    assert onehot_validity(x, GROUPS).tolist() == [True, False]  # second: no level set
    assert onehot_validity(x, ()).tolist() == [True, True]


@pytest.mark.parametrize("mode", ["straight_through", "frozen"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("generator", [Generic(lambda_cost=0.0), ECCo(lambda_cost=0.0)])
def test_every_counterfactual_is_onehot_valid_and_batched_equals_alone(mode, seed, generator):
    """With the evaluation's λ_cost = 0 (method §5.2). The snap is discontinuous: in float32 a
    one-ulp difference between a batched and a single-row matmul can flip a near-tied level,
    hence float64. With an L1 cost, straight-through can also chatter on a level tie (the
    cost pulls back whenever the level switches) until rounding decides; that is the
    dynamics of the reference's reading, not a batching effect."""
    model, x = _model(seed).double(), _factuals(40, seed + 1).double()
    target = 1 - model(x).argmax(dim=1)
    bound = 2.5 * torch.ones(D, dtype=torch.float64)
    cons = Constraints.from_immutable(D, (7,), lower=-bound, upper=bound)
    cat = Categorical(GROUPS, mode)
    kwargs = dict(tau=0.9, max_iter=30, step_size=0.5, categorical=cat)
    batched = search(model, x, target, generator, cons, keep_path=True, **kwargs)
    assert 0 < int(batched.converged.sum()) < len(x)
    assert bool(cat.valid(batched.path.flatten(0, 1)).all())  # every step's decoded point
    assert bool(cat.valid(batched.nascent).all())
    # convergence is judged on the decoded point that is returned
    p = model(batched.counterfactuals).softmax(dim=1).gather(1, target[:, None]).squeeze(1)
    assert torch.equal(p >= 0.9, batched.converged)
    for i in range(len(x)):
        alone = search(model, x[i : i + 1], target[i : i + 1], generator, cons, **kwargs)
        torch.testing.assert_close(
            alone.counterfactuals[0], batched.counterfactuals[i], atol=1e-6, rtol=0
        )
        assert alone.iterations[0] == batched.iterations[i]


def test_straight_through_equals_a_hand_computed_two_step_search():
    """Linear model, loss = CE only: each step moves the continuous state by −η·Wᵀ(p − e_t)
    evaluated at the *decoded* point; the category switches once the other level overtakes."""
    w = torch.tensor([[0.0, 0.0, 0.0], [-3.0, 3.0, 1.0]])  # logit 1 prefers level 1 of (0, 1)
    model = nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.copy_(w)
        model.bias.zero_()
    x = torch.tensor([[1.0, 0.0, 0.5]])  # level 0, continuous 0.5
    t = torch.tensor([1])
    eta = 0.1
    res = search(
        model,
        x,
        t,
        Generic(lambda_cost=0.0),
        tau=1.0,
        max_iter=2,
        step_size=eta,
        keep_path=True,
        categorical=Categorical(((0, 1),)),
    )

    def grad(point: np.ndarray) -> np.ndarray:
        z = w.numpy().astype(np.float64) @ point
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        return w.numpy().T @ (p - np.array([0.0, 1.0]))

    s0 = np.array([1.0, 0.0, 0.5])
    s1 = s0 - eta * grad(s0)  # decoded s0 is s0 itself
    d1 = np.array([1.0, 0.0, s1[2]]) if s1[0] >= s1[1] else np.array([0.0, 1.0, s1[2]])
    s2 = s1 - eta * grad(d1)  # gradient at the decoded point, applied to the state
    d2 = np.array([1.0, 0.0, s2[2]]) if s2[0] >= s2[1] else np.array([0.0, 1.0, s2[2]])
    assert s1[0] > s1[1] and s2[0] < s2[1]  # the example does switch at step 2
    path = res.path[:, 0].double().numpy()
    np.testing.assert_allclose(path[1], d1, atol=1e-6)
    np.testing.assert_allclose(path[2], d2, atol=1e-6)
    np.testing.assert_allclose(res.counterfactuals[0].double().numpy(), d2, atol=1e-6)


def test_frozen_never_changes_a_category():
    model, x = _model(3), _factuals(60, 4)
    target = 1 - model(x).argmax(dim=1)
    cols = [c for g in GROUPS for c in g]
    kwargs = dict(tau=0.99, max_iter=50, step_size=0.5)
    free = search(model, x, target, ECCo(0.0), categorical=Categorical(GROUPS), **kwargs)
    frozen = search(
        model, x, target, ECCo(0.0), categorical=Categorical(GROUPS, "frozen"), keep_path=True,
        **kwargs,
    )  # fmt: skip
    assert bool((free.counterfactuals[:, cols] != x[:, cols]).any())  # the option matters here
    assert torch.equal(frozen.path[:, :, cols], x[None, :, cols].expand_as(frozen.path[:, :, cols]))
    assert bool((frozen.counterfactuals[:, 6:] != x[:, 6:]).any())  # continuous columns move


def test_domain_clamp_skips_group_columns_only():
    cons = Constraints(lower=torch.zeros(D), upper=torch.ones(D))
    open_ = Categorical(GROUPS).unclamped(cons)
    assert torch.isinf(open_.lower[:6]).all() and torch.isinf(open_.upper[:6]).all()
    assert torch.equal(open_.lower[6:], cons.lower[6:]) and torch.equal(
        open_.upper[6:], cons.upper[6:]
    )


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="mode='snap'"):
        Categorical(GROUPS, "snap")
    with pytest.raises(ValueError, match="overlap"):
        Categorical(((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="outside 4 features"):
        Categorical(GROUPS).snap(torch.zeros(2, 4))


def _dataset() -> Dataset:
    x = _factuals(300, 7).numpy()
    model = _model(5)
    y = model(torch.from_numpy(x)).argmax(dim=1).numpy()
    lo, hi = x.min(axis=0) - 1, x.max(axis=0) + 1
    return Dataset(
        name="adult",  # a tabular name: the paper's sizes apply
        x_train=x, y_train=y, x_val=x[:10], y_val=y[:10], x_test=x, y_test=y,
        feature_names=tuple(f"f{i}" for i in range(D)), lower=lo, upper=hi,
        protected=(6,), n_classes=2, categorical=GROUPS,
    )  # fmt: skip


def test_benchmark_decodes_groups_by_default_and_reports_onehot_validity():
    data, models = _dataset(), {"full": _model(5), "vanilla": _model(6)}
    on = benchmark_dataset(data, models, eval_settings(lambdas=(1.0,)), experiment="x", n_runs=3)
    off = benchmark_dataset(
        data, models, eval_settings(lambdas=(1.0,), categorical="off"), experiment="x", n_runs=3
    )
    assert len(on) == 2 * 3 * 100  # tabular: 100 individuals by default (method §5.2)
    assert set(on["categorical"]) == {"straight_through"} and set(off["categorical"]) == {"off"}
    assert bool(on["onehot_valid"].all()) and not bool(off["onehot_valid"].all())
    mine = dataclasses.replace(data, name="mine")  # a user's own data: sizes must be given
    with pytest.raises(ValueError, match="pass n_individuals= and n_runs="):
        benchmark_dataset(mine, models, eval_settings(lambdas=(1.0,)), experiment="x")
    table = validity_table(off, average=False)
    assert list(table.columns) == ["dataset", "experiment", "model", "validity", "onehot_valid"]
    assert table["onehot_valid"].lt(1.0).all()


def test_training_sweeps_ignore_groups_by_default_and_can_decode_them():
    data = _dataset()
    x, y = (torch.from_numpy(a) for a in (data.x_train, data.y_train))
    sweeps = {}
    for mode in ("off", "straight_through"):
        sweeps[mode] = run_sweep(
            _model(5), x, y, 2, 200, ECCo(), data.constraints(), torch.Generator().manual_seed(0),
            tau=0.9, max_iter=30, step_size=0.5, ae_epsilon=0.3,
            categorical=Categorical.of(data.categorical, mode),
        )  # fmt: skip
    assert bool(onehot_validity(sweeps["straight_through"].counterfactual, GROUPS).all())
    assert not bool(onehot_validity(sweeps["off"].counterfactual, GROUPS).all())
    cfg = TrainingConfig(nepochs=1, batch_size=100, nce=50, categorical="straight_through")
    assert TrainingConfig().categorical == "off"
    counterfactual_training(_model(5), data, cfg, quiet=True)  # a Dataset brings its groups
    with pytest.raises(ValueError, match="needs a Dataset"):
        counterfactual_training(_model(5), (x, y), cfg, quiet=True)
    with pytest.raises(ValueError, match="mode='on'"):
        TrainingConfig(categorical="on")
