"""The CT training loop: mini-batch updates, logging, non-finite losses, config (issue 4)."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

from cftrain import objectives
from cftrain.constraints import Constraints
from cftrain.models import build
from cftrain.stacking import stack_models
from cftrain.sweep import Sweep
from cftrain.training import (
    LOG_COLUMNS,
    TrainingConfig,
    counterfactual_training,
    final_config,
    update_epoch,
)
from test_objectives import LOG1P_E1, LOG1P_E4, X_AE, X_CF, X_POS, linear_model


def _sweep(n: int, d: int) -> Sweep:
    """A hand-made sweep whose row j is recognisable: x⁺ = j, x′ = 100 + j, x_AE = 200 + j."""
    j = torch.arange(n, dtype=torch.float64)[:, None].expand(n, d)
    return Sweep(
        counterfactual=100 + j,
        neighbour=j.clone(),
        adversarial=200 + j,
        target=torch.arange(n) % 2,
        label=(torch.arange(n) + 1) % 2,
        index=torch.arange(n),
        converged=torch.ones(n, dtype=torch.bool),
        iterations=torch.zeros(n, dtype=torch.long),
    )


def _hand_sweep() -> Sweep:
    return Sweep(
        counterfactual=X_CF,
        neighbour=X_POS,
        adversarial=X_AE,
        target=torch.tensor([1, 0]),
        label=torch.tensor([1, 0]),
        index=torch.tensor([0, 1]),
        converged=torch.ones(2, dtype=torch.bool),
        iterations=torch.zeros(2, dtype=torch.long),
    )


class _SGD:
    """Plain SGD with CellAdam's interface, so that tests can compute updates by hand."""

    def __init__(self, params: list[torch.Tensor], lr: float) -> None:
        self.params, self.lr = params, lr

    def step(self, grads, cells: torch.Tensor) -> None:
        with torch.no_grad():
            for p, g in zip(self.params, grads, strict=True):
                p -= self.lr * g * cells.view(-1, *[1] * (g.ndim - 1))


def _update(model, lr, x_batches, y_batches, sweep, lam):
    """:func:`update_epoch` of ``model`` as a batch of one; its row and #skipped steps."""
    stacked = stack_models([model])
    cells = Sweep(
        **{f: torch.as_tensor(getattr(sweep, f))[None] for f in Sweep.__dataclass_fields__}
    )
    weights = {k: torch.tensor([v], dtype=torch.float64) for k, v in lam.items()}
    one = torch.ones(1, dtype=torch.bool)
    rows, skipped = update_epoch(
        stacked, _SGD(stacked.params, lr), x_batches, y_batches, cells, weights, one
    )
    stacked.write_back(0, model)
    return rows[0], skipped[0]


CLF = (1 + LOG1P_E1 + LOG1P_E4) / 2  # hand values of tests/test_objectives.py
ADV = (5 + LOG1P_E1 + LOG1P_E4) / 2
DIV, RIDGE = -2.0, 7.5


@pytest.mark.parametrize("objective", objectives.OBJECTIVES[:3])
def test_update_logs_hand_computed_terms(objective):
    lam = objectives.lambdas(objective)
    row, skipped = _update(linear_model(), 0.0, [X_POS], [torch.tensor([0, 0])], _hand_sweep(), lam)
    hand = {"clf": CLF, "div": DIV, "ridge": RIDGE, "adv": ADV}
    assert skipped == 0
    for term in objectives.TERMS:
        if term in lam:
            assert row[term] == pytest.approx(hand[term], abs=1e-12)
        else:
            assert math.isnan(row[term])
    assert row["loss"] == pytest.approx(sum(lam[k] * hand[k] for k in lam), abs=1e-12)


def test_update_gradient_equals_separate_forward_passes():
    """The concatenated forward pass slices logits correctly: same gradient as term by term."""
    model, reference = linear_model(), linear_model()
    y = torch.tensor([0, 0])
    sweep = _hand_sweep()
    _update(model, 1.0, [X_POS], [y], sweep, objectives.lambdas("full"))
    loss = (
        objectives.clf(reference(X_POS), y)
        + 0.5 * objectives.div(reference(X_POS), reference(X_CF), sweep.target)
        + 0.1 * objectives.ridge(reference(X_POS), reference(X_CF), sweep.target)
        + 0.25 * objectives.adv(reference(X_AE), sweep.label)
    )
    loss.backward()
    with torch.no_grad():
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            torch.testing.assert_close(p, q - q.grad, rtol=0, atol=1e-12)


def test_group_i_rides_with_batch_i_in_order():
    x = torch.arange(7 * 2, dtype=torch.float64).reshape(7, 2) + 0.5
    y = torch.zeros(7, dtype=torch.long)
    seen: list[torch.Tensor] = []
    model = linear_model()
    model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    _update(model, 0.0, x.split(3), y.split(3), _sweep(10, 2), objectives.lambdas("full"))
    # batches of 3, 3, 1 (the partial batch kept); 10 tuples → groups of 4, 3, 3
    starts, sizes = [0, 4, 7], [4, 3, 3]
    assert len(seen) == 3
    for i, inputs in enumerate(seen):
        b = x.split(3)[i].shape[0]
        rows = torch.arange(starts[i], starts[i] + sizes[i], dtype=torch.float64)[:, None]
        rows = rows.expand(-1, 2)
        expected = torch.cat([x.split(3)[i], rows, 100 + rows, 200 + rows])
        assert inputs.shape[0] == b + 3 * sizes[i]
        assert torch.equal(inputs, expected)


def test_adversarial_objective_does_not_forward_pairs():
    seen: list[int] = []
    model = linear_model()
    model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[0]))
    lam = objectives.lambdas("adversarial")
    _update(model, 0.0, [X_POS], [torch.tensor([0, 0])], _hand_sweep(), lam)
    assert seen == [2 + 2]  # the batch and x_AE only


def _two_blobs(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    return torch.randn(n, 2, generator=g) + 2.5 * y[:, None].float(), y


def test_vanilla_is_plain_adam_over_contiguous_batches():
    x, y = _two_blobs(95)
    model = build("mlp", 2, 2, seed=3)
    reference = build("mlp", 2, 2, seed=3)
    cfg = TrainingConfig(objective="vanilla", nepochs=3, batch_size=20, lr=0.01)
    log = counterfactual_training(model, (x, y), cfg, quiet=True).log
    opt = torch.optim.Adam(reference.parameters(), lr=0.01, fused=True)  # as training
    for _ in range(3):
        for start in range(0, 95, 20):  # 5 batches, the last of 15 rows
            loss = torch.nn.functional.cross_entropy(
                reference(x[start : start + 20]), y[start : start + 20]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p, q)
    assert list(log.columns) == list(LOG_COLUMNS)
    assert log["epoch"].tolist() == [1, 2, 3]
    assert log[["div", "ridge", "adv", "percent_mature", "val_accuracy"]].isna().all().all()


def _param_snapshots(model: torch.nn.Module) -> list[list[torch.Tensor]]:
    snapshots: list[list[torch.Tensor]] = []
    model.register_forward_pre_hook(
        lambda m, _args: snapshots.append([p.detach().clone() for p in m.parameters()])
    )
    return snapshots


def _nan_beyond(model: torch.nn.Module, limit: float = 1e5) -> torch.nn.Module:
    """``model`` with NaN logits for rows beyond ``limit``: a non-finite loss from finite data
    (non-finite data is refused before training)."""
    model.register_forward_hook(
        lambda m, args, out: torch.where(args[0].abs().amax(1, keepdim=True) > limit, math.nan, out)
    )
    return model


def test_nan_loss_skips_the_step_and_is_counted():
    x, y = _two_blobs(90, seed=1)
    x_nan = x.clone()
    x_nan[40, 1] = 1e6  # inside batch 2 of 3
    cfg = TrainingConfig(objective="vanilla", nepochs=1, batch_size=30, lr=0.05)
    model = torch.nn.Sequential(build("mlp", 2, 2, seed=0))  # not stacked: its forward runs
    snapshots = _param_snapshots(model)
    _nan_beyond(model)
    with pytest.warns(RuntimeWarning, match="non-finite loss") as caught:
        log = counterfactual_training(model, (x_nan, y), cfg, quiet=True).log
    assert len(caught) == 1
    assert log["n_skipped"].tolist() == [1]
    # snapshots: output-width probe, batches 1–3, accuracy; batch 1 stepped, batch 2 did not
    assert len(snapshots) == 5
    assert not all(torch.equal(a, b) for a, b in zip(snapshots[1], snapshots[2], strict=True))
    assert all(torch.equal(a, b) for a, b in zip(snapshots[2], snapshots[3], strict=True))
    # … so the run equals one that never saw batch 2 (Adam state untouched too)
    keep = torch.cat([torch.arange(30), torch.arange(60, 90)])
    reference = torch.nn.Sequential(build("mlp", 2, 2, seed=0))
    counterfactual_training(reference, (x[keep], y[keep]), cfg, quiet=True)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(p, q)
    assert math.isfinite(log["loss"].item())  # the mean is over the finite steps


def test_nan_warning_once_per_epoch():
    x, y = _two_blobs(90, seed=1)
    x[5, 0] = x[75, 0] = 1e6  # batches 1 and 3
    cfg = TrainingConfig(objective="vanilla", nepochs=2, batch_size=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = torch.nn.Sequential(build("mlp", 2, 2))  # not stacked: its forward runs
        log = counterfactual_training(_nan_beyond(model), (x, y), cfg, quiet=True).log
    assert len([w for w in caught if "non-finite" in str(w.message)]) == 2
    assert log["n_skipped"].tolist() == [2, 2]


def test_ct_run_logs_terms_maturity_and_validation():
    x, y = _two_blobs(200, seed=2)
    cfg = TrainingConfig(nepochs=3, batch_size=40, nce=50, tau=0.6, burnin=1 / 3)
    log = counterfactual_training(
        build("mlp", 2, 2), (x[:150], y[:150], x[150:], y[150:]), cfg, quiet=True
    ).log
    # burn-in round(1/3 · 3) = 1 epoch: no sweep, classifier loss only
    assert log.loc[0, ["div", "ridge", "adv", "percent_mature"]].isna().all()
    later = log.iloc[1:]
    assert later[["div", "ridge", "adv", "percent_mature", "mean_iterations"]].notna().all().all()
    assert ((later["percent_mature"] >= 0) & (later["percent_mature"] <= 100)).all()
    assert log["val_accuracy"].between(0, 1).all()
    assert (log["seconds"] > 0).all()


def test_nce_below_batches_is_raised_and_above_data_is_an_error():
    x, y = _two_blobs(60)
    seen: list[int] = []
    model = torch.nn.Sequential(build("mlp", 2, 2))  # not stacked: its forward runs
    cfg = TrainingConfig(nepochs=1, batch_size=10, nce=2)  # 6 batches → 6 CEs, one each
    handle = model.register_forward_pre_hook(lambda _m, a: seen.append(a[0].shape[0]))
    counterfactual_training(model, (x, y), cfg, quiet=True)
    handle.remove()
    assert seen[-7:] == [10 + 3] * 6 + [60]  # 6 batches with 1 tuple each, then accuracy
    with pytest.raises(ValueError, match="no replacement"):
        counterfactual_training(
            build("mlp", 2, 2), (x, y), TrainingConfig(nepochs=1, nce=61), quiet=True
        )


def test_protect_flag_and_constraints_must_agree():
    x, y = _two_blobs(30)
    cons = Constraints(mutability=("none", "both"))
    with pytest.raises(ValueError, match="must agree"):
        counterfactual_training(build("mlp", 2, 2), (x, y), TrainingConfig(), constraints=cons)
    with pytest.raises(ValueError, match="must agree"):
        counterfactual_training(
            build("mlp", 2, 2), (x, y), TrainingConfig(protect_immutable=True), quiet=True
        )


def test_config_json_round_trip_and_validation():
    cfg = TrainingConfig(objective="energy", lambda_reg=0.5, nce=None, generator="generic")
    assert TrainingConfig.from_json(cfg.to_json()) == cfg
    assert json.loads(cfg.to_json())["objective"] == "energy"
    with pytest.raises(ValueError, match="unknown"):
        TrainingConfig.from_dict({"objective": "full", "learning_rate": 1.0})
    with pytest.raises(ValueError, match="generator"):
        TrainingConfig(generator="wachter")
    with pytest.raises(ValueError, match="objective"):
        TrainingConfig(objective="ct")


def test_final_config_matches_spec_table():
    moons = final_config("moons")
    assert (moons.batch_size, moons.tau, moons.nce, moons.lambda_reg) == (30, 0.9, 1000, 0.25)
    adult = final_config("adult", "vanilla")
    assert (adult.batch_size, adult.tau, adult.nce) == (1000, 0.75, 5000)
    assert adult.objective == "vanilla"
    common = final_config("circles")
    assert (common.lambda_clf, common.lambda_div, common.lambda_adv) == (1.0, 0.5, 0.25)
    assert (common.nepochs, common.lr, common.max_iter, common.step_size) == (100, 1e-3, 30, 0.1)
    assert (common.lambda_cost, common.lambda_energy, common.ae_epsilon) == (0.001, 5.0, 0.3)
    assert (common.burnin, common.generator, common.protect_immutable) == (0.0, "ecco", False)
    # deviations §9.7, §9.20: the §0 values by default; the run records' zeros as a named option
    mut = final_config("circles", mutability=True)
    assert (mut.lambda_reg, mut.lambda_adv, mut.protect_immutable) == (0.5, 0.25, True)
    rec = final_config("circles", mutability=True, synthetic_mutability="run_records")
    assert (rec.lambda_reg, rec.lambda_adv, rec.protect_immutable) == (0.0, 0.0, True)
    assert final_config("circles", synthetic_mutability="run_records").lambda_reg == 0.5
    for option in ("final", "run_records"):
        mut_adult = final_config("adult", mutability=True, synthetic_mutability=option)
        assert (mut_adult.lambda_reg, mut_adult.lambda_adv) == (0.25, 0.25)
    with pytest.raises(ValueError, match="synthetic_mutability='zeros'"):
        final_config("circles", mutability=True, synthetic_mutability="zeros")


def test_burnin_epochs_round_half_to_even():
    assert TrainingConfig(nepochs=5, burnin=0.5).burnin_epochs == 2  # round(2.5) = 2
    assert TrainingConfig(nepochs=7, burnin=0.5).burnin_epochs == 4  # round(3.5) = 4


@pytest.mark.parametrize("generator", ["ecco", "generic", "revise", "omniscient"])
def test_every_training_generator_runs(generator):
    x, y = _two_blobs(200, seed=4)
    cfg = TrainingConfig(nepochs=2, batch_size=50, nce=40, tau=0.6, lr=0.02, generator=generator)
    log = counterfactual_training(build("mlp", 2, 2), (x, y), cfg, quiet=True).log
    assert log[["loss", "div", "ridge", "adv"]].notna().all().all()
    assert log["percent_mature"].iloc[-1] > 0  # the untrained model of epoch 1 may have none
    if generator == "omniscient":  # no search: zero steps, mature wherever a target exists
        assert (log["mean_iterations"] == 0).all()
        assert (log["percent_mature"] == 100).all()
