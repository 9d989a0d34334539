"""One training engine for K cells (issue 25): a cell's results do not depend on its batch."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from cftrain.batch_plan import plan_batches
from cftrain.batch_search import CellSettings, stack_generators
from cftrain.constraints import Constraints
from cftrain.data import Dataset, from_arrays
from cftrain.generators import ECCo, Generic, Omniscient
from cftrain.models import build
from cftrain.stacking import StackedMLP, stack_models
from cftrain.sweep import Sweep, run_sweep, sweep_cells
from cftrain.training import CHECKPOINT_NAME, Cell, TrainingConfig, train_cells
from cftrain.training_config import make_generator

GENERATORS = ("ecco", "generic", "revise", "omniscient")
#: per-cell values of the fields a batch does not share
CELLS = (
    dict(seed=1, tau=0.6, max_iter=30, lr=0.02, lambda_cost=0.001, lambda_energy=5.0),
    dict(seed=2, tau=0.8, max_iter=50, lr=0.01, lambda_cost=0.1, lambda_div=0.3, step_size=0.5),
    dict(seed=3, tau=0.7, max_iter=20, lr=0.02, lambda_energy=10.0, lambda_reg=0.5),
    dict(seed=4, tau=0.5, max_iter=5, lr=0.05, lambda_cost=0.01, ae_epsilon=0.1, lambda_adv=1.0),
)


def _blobs(n: int = 240, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + 2.5 * y[:, None].float()
    return x[:200], y[:200], x[200:], y[200:]


def _cells(base: TrainingConfig, n_features: int = 2, **model) -> list[Cell]:
    return [
        Cell(f"c{i}", dataclasses.replace(base, **values), build("mlp", n_features, 2, seed=i))
        for i, values in enumerate(CELLS)
    ]


def _assert_same(a, b) -> None:
    """Bitwise equal parameters and logs (bar the timings) and the same failure."""
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0, equal_nan=True, msg=name)
    pd.testing.assert_frame_equal(
        a.log.drop(columns="seconds"), b.log.drop(columns="seconds"), check_exact=True
    )
    assert a.failure == b.failure


def _alone_and_together(make, data, **kwargs):
    together = train_cells(make(), data, quiet=True, **kwargs)
    alone = [train_cells([cell], data, quiet=True, **kwargs)[0] for cell in make()]
    return alone, together


@pytest.mark.parametrize("mutability", [False, True], ids=["free", "protected"])
@pytest.mark.parametrize("generator", GENERATORS)
def test_four_cells_train_bitwise_as_each_alone(generator, mutability):
    base = TrainingConfig(
        nepochs=3, batch_size=30, nce=80, generator=generator, protect_immutable=mutability
    )
    constraints = Constraints(mutability=("none", "both")) if mutability else None
    alone, together = _alone_and_together(lambda: _cells(base), _blobs(), constraints=constraints)
    for a, b in zip(alone, together, strict=True):
        _assert_same(a, b)
    mature = pd.concat([r.log["percent_mature"] for r in together])
    assert 0 < mature.mean() < 100 or generator == "omniscient"
    # the cells really differ: a batch is not one cell repeated
    assert len({float(r.log["loss"].iloc[-1]) for r in together}) == len(CELLS)


def _categorical_data() -> Dataset:
    """Two continuous columns and a one-hot group of three."""
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 2, n)
    level = (rng.integers(0, 3, n) + y) % 3
    x = np.column_stack(
        [
            rng.normal(size=(n, 2)) + 2.0 * y[:, None],
            np.eye(3)[level],
        ]
    ).astype(np.float32)
    return from_arrays(
        x[:250],
        y[:250],
        x[250:],
        y[250:],
        categorical=((2, 3, 4),),
        mutability={"x1": "none", "x2": "increase"},
    )


@pytest.mark.parametrize("generator", ["ecco", "generic"])
def test_categorical_cells_with_mutability_train_bitwise_as_each_alone(generator):
    data = _categorical_data()
    base = TrainingConfig(
        nepochs=3,
        batch_size=30,
        nce=60,
        generator=generator,
        categorical="straight_through",
        protect_immutable=True,
    )
    alone, together = _alone_and_together(lambda: _cells(base, data.n_features), data)
    for a, b in zip(alone, together, strict=True):
        _assert_same(a, b)
    assert pd.concat([r.log["percent_mature"] for r in together]).max() > 0


@pytest.mark.parametrize("generator", GENERATORS)
def test_sweep_of_four_cells_equals_each_sweep_alone(generator):
    """The counterfactuals themselves: every field of each cell's sweep, bitwise."""
    x, y, _, _ = _blobs()
    configs = [TrainingConfig(generator=generator, **{"step_size": 0.5, **v}) for v in CELLS]
    models = [build("mlp", 2, 2, seed=i) for i in range(len(CELLS))]
    base = make_generator(configs[0], x)
    vae = getattr(base, "vae", None)
    generators = [make_generator(c, x, vae=vae) for c in configs]
    constraints = Constraints(
        lower=torch.tensor([-3.0, -3.0]),
        upper=torch.tensor([5.0, 5.0]),
        mutability=("both", "decrease"),
    )
    settings = CellSettings.of(
        *([getattr(c, f) for c in configs] for f in ("tau", "max_iter", "step_size", "ae_epsilon")),
        like=x,
    )
    rngs = [torch.Generator().manual_seed(c.seed) for c in configs]
    together = sweep_cells(
        stack_models(models),
        x,
        y,
        2,
        100,
        stack_generators(generators, like=x),
        constraints,
        rngs,
        settings,
    )
    assert (
        0 < int(together.converged.sum()) < together.converged.numel() or generator == "omniscient"
    )
    for k, c in enumerate(configs):
        alone = run_sweep(
            models[k],
            x,
            y,
            2,
            100,
            generators[k],
            constraints,
            torch.Generator().manual_seed(c.seed),
            tau=c.tau,
            max_iter=c.max_iter,
            step_size=c.step_size,
            ae_epsilon=c.ae_epsilon,
        )
        for f in dataclasses.fields(Sweep):
            assert torch.equal(
                torch.as_tensor(getattr(alone, f.name)), getattr(together, f.name)[k]
            ), f.name


def test_stacked_mlp_equals_the_modules_forward_and_backward():
    models = [build("mlp", 3, 2, seed=s, n_layers=2) for s in range(3)]
    stacked = stack_models(models)
    assert isinstance(stacked, StackedMLP)
    x = torch.randn(3, 40, 3, generator=torch.Generator().manual_seed(0))
    out = stacked(x)
    (out**2).sum().backward()
    for k, model in enumerate(models):
        mine = model(x[k])
        assert torch.equal(mine, out[k])
        (mine**2).sum().backward()
        for p, q in zip(model.parameters(), stacked.params, strict=True):
            assert torch.equal(p.grad, q.grad[k])


@pytest.mark.parametrize("width", [32, 96, 1024])
def test_a_rows_numbers_do_not_depend_on_its_position(width):
    """The search leaves stopped rows in place until the width shrinks, so a row sits at
    other positions in a batch than alone: its logits and input gradient must not care."""
    models = [build("mlp", 2, 2, seed=s) for s in range(3)]
    stacked = stack_models(models)
    g = torch.Generator().manual_seed(width)
    x = torch.randn(3, width, 2, generator=g)
    perm = torch.stack([torch.randperm(width, generator=g) for _ in range(3)])
    outputs = []
    for rows in (x, x.gather(1, perm.unsqueeze(-1).expand(-1, -1, 2))):
        s = rows.clone().requires_grad_()
        logits = stacked(s)
        (grad,) = torch.autograd.grad(logits.log_softmax(-1)[..., 0].sum(), s)
        outputs.append((logits.detach(), grad))
    (logits, grad), (logits_p, grad_p) = outputs
    assert torch.equal(logits.gather(1, perm.unsqueeze(-1).expand(-1, -1, 2)), logits_p)
    assert torch.equal(grad.gather(1, perm.unsqueeze(-1).expand(-1, -1, 2)), grad_p)


def _poisoned(base: TrainingConfig) -> Cell:
    """A cell whose λ_div gives a finite loss but overflowing gradients: its parameters
    become non-finite in epoch 1."""
    config = dataclasses.replace(base, lambda_div=3e38, tau=0.6, lr=0.02, seed=0)
    return Cell("poisoned", config, build("mlp", 2, 2, seed=0))


def test_a_poisoned_cell_fails_alone_and_the_others_are_untouched():
    base = TrainingConfig(nepochs=3, batch_size=30, nce=80)

    def cells(with_poison: bool) -> list[Cell]:
        out = _cells(base)
        if with_poison:
            out.insert(2, _poisoned(base))
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        poisoned = train_cells(cells(True), _blobs(), quiet=True)
        clean = train_cells(cells(False), _blobs(), quiet=True)
    failure = poisoned[2].failure
    assert failure is not None and failure.cell == "poisoned" and failure.epoch == 1
    assert "cell 'poisoned'" in failure.reason and "non-finite" in failure.reason
    assert poisoned[2].log.empty
    assert not all(bool(p.isfinite().all()) for p in poisoned[2].model.parameters())
    for a, b in zip(poisoned[:2] + poisoned[3:], clean, strict=True):
        _assert_same(a, b)
        assert a.failure is None and len(a.log) == 3


def test_killed_batch_resumes_bitwise(tmp_path):
    base = TrainingConfig(nepochs=4, batch_size=30, nce=80, generator="revise")

    def cells() -> list[Cell]:  # fresh models: a resumed batch takes everything from the file
        out = _cells(base)
        return [*out, _poisoned(base)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        straight = train_cells(cells(), _blobs(), quiet=True)
        first = train_cells(
            cells(), _blobs(), checkpoint_dir=tmp_path, stop_after_epoch=2, quiet=True
        )
        resumed = train_cells(cells(), _blobs(), checkpoint_dir=tmp_path, quiet=True)
    assert [len(r.log) for r in first] == [2, 2, 2, 2, 0]
    for a, b in zip(straight, resumed, strict=True):
        _assert_same(a, b)
    assert resumed[-1].failure is not None and resumed[-1].failure.epoch == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKPOINT_NAME]


def test_cells_of_one_batch_must_share_the_batch_fields():
    base = TrainingConfig(nepochs=1, batch_size=30, nce=40)
    cells = _cells(base)[:2]
    cells[1] = dataclasses.replace(cells[1], config=dataclasses.replace(base, objective="energy"))
    with pytest.raises(ValueError, match="one objective"):
        train_cells(cells, _blobs(), quiet=True)


def test_plan_groups_stackable_cells_and_keeps_the_rest_alone():
    small = TrainingConfig(batch_size=30)
    cells = [
        Cell("a", dataclasses.replace(small, max_iter=50), build("mlp", 2, 2)),
        Cell("b", dataclasses.replace(small, max_iter=20), build("mlp", 2, 2)),
        Cell("vanilla", dataclasses.replace(small, objective="vanilla"), build("mlp", 2, 2)),
        Cell("large batch", TrainingConfig(batch_size=1000), build("mlp", 2, 2)),
        Cell("dropout", small, nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.1), nn.Linear(4, 2))),
        Cell("wider", small, build("mlp", 2, 2, n_hidden=16)),
        Cell("c", dataclasses.replace(small, max_iter=30), build("mlp", 2, 2)),
        Cell("generic", small, build("mlp", 2, 2), generator=Generic()),
        Cell("ecco", small, build("mlp", 2, 2), generator=ECCo(lambda_energy=1.0)),
        Cell("omni", small, build("mlp", 2, 2), generator=Omniscient(pool=torch.zeros(1, 2))),
    ]
    ids = [[c.id for c in batch] for batch in plan_batches(cells)]
    assert ids == [
        ["b", "c", "a"],  # ordered by T
        ["vanilla"],
        ["large batch"],
        ["dropout"],
        ["wider"],
        ["generic"],
        ["ecco"],
        ["omni"],
    ]
    assert [[c.id for c in b] for b in plan_batches(cells[:2], max_cells=1)] == [["b"], ["a"]]
