"""The method §5.2 benchmark protocol and its tidy table (issue 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import cftrain.evaluation.protocol as protocol
from cftrain.constraints import Constraints
from cftrain.evaluation import (
    EvalSetting,
    benchmark,
    cost,
    draw_label_pairs,
    predict,
    validity,
    write_parquet,
)
from cftrain.search import search

K = 3
SETTINGS = [EvalSetting(lambda_energy=0.5, max_iter=8), EvalSetting(lambda_energy=5.0, max_iter=8)]


def _model(seed: int) -> torch.nn.Module:
    from cftrain.models import build

    model = build("mlp", 2, K, seed=seed)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


def _data(n: int = 300):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=g) * 4 - 2
    return x, torch.randint(0, K, (n,), generator=g)


def _run(models, **kwargs) -> pd.DataFrame:
    x, y = _data()
    c = Constraints(lower=torch.full((2,), -2.5), upper=torch.full((2,), 2.5))
    defaults = dict(n_classes=K, constraints=c, n_individuals=12, n_runs=6, seed=1)
    return benchmark(
        models, x, y, SETTINGS, **{**defaults, **kwargs}, dataset="toy", experiment="e"
    )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _run({"full": _model(1), "vanilla": _model(2)})


def test_label_pairs_have_distinct_uniform_targets():
    f, t = draw_label_pairs(6000, 4, torch.Generator().manual_seed(0))
    assert (f != t).all()
    counts = np.bincount((f * 4 + t).numpy(), minlength=16).reshape(4, 4)
    assert (counts.diagonal() == 0).all()
    off = counts[~np.eye(4, dtype=bool)]
    assert off.min() > 0.8 * 6000 / 12 and off.max() < 1.2 * 6000 / 12


def test_table_shape_and_columns(table):
    assert len(table) == len(SETTINGS) * 2 * 6 * 12
    assert {
        "dataset",
        "experiment",
        "model",
        "generator",
        "lambda_energy",
        "tau",
        "run",
        "factual_label",
        "target_label",
        "validity",
        "cost",
        "redundancy",
        "ip",
        "mmd",
        "immutable_moved",
        "domain_left",
    } <= set(table.columns)
    assert set(table["dataset"]) == {"toy"} and set(table["generator"]) == {"ECCo"}
    assert set(table["lambda_cost"]) == {0.0}
    assert 0 < table["validity"].mean() < 1  # the toy setting has both outcomes


def test_factuals_are_test_points_predicted_as_the_factual_class(table):
    x, y = _data()
    for name, seed in (("full", 1), ("vanilla", 2)):
        part = table[table["model"] == name]
        idx = torch.tensor(part["factual_index"].to_numpy())
        assert (predict(_model(seed), x)[idx].numpy() == part["factual_label"].to_numpy()).all()
        # … and not merely by ground truth: some factuals have another true label
        assert (y[idx].numpy() != part["factual_label"].to_numpy()).any()


def test_label_pairs_are_reused_across_runs_and_models(table):
    for _, part in table.groupby("lambda_energy"):
        pairs = part.groupby("individual")[["factual_label", "target_label"]].nunique()
        assert (pairs == 1).all().all()
        # instances are redrawn per run and per model
        per_run = part.groupby(["model", "individual"])["factual_index"].nunique()
        assert per_run.max() > 1
    by_setting = table.groupby("lambda_energy")["target_label"].apply(tuple)
    assert by_setting.iloc[0] != by_setting.iloc[1]  # drawn once *per setting*


def test_one_batched_search_per_setting_and_model(monkeypatch):
    calls = []

    def counting(model, x, *args, **kwargs):
        calls.append(x.shape[0])
        return search(model, x, *args, **kwargs)

    monkeypatch.setattr(protocol, "search", counting)
    _run({"full": _model(1), "vanilla": _model(2)})
    assert calls == [6 * 12] * (len(SETTINGS) * 2)


def test_row_metrics_match_a_direct_search(table):
    x, _ = _data()
    part = table[(table["model"] == "full") & (table["lambda_energy"] == 5.0)]
    xs = x[torch.tensor(part["factual_index"].to_numpy())]
    target = torch.tensor(part["target_label"].to_numpy())
    c = Constraints(lower=torch.full((2,), -2.5), upper=torch.full((2,), 2.5))
    result = search(_model(1), xs, target, SETTINGS[1].build(), c, tau=0.95, max_iter=8)
    cf = result.counterfactuals
    assert np.allclose(part["cost"].to_numpy(), cost(xs, cf).numpy())
    assert (part["validity"].to_numpy() == validity(_model(1), cf, target).numpy()).all()
    assert (part["iterations"].to_numpy() == result.iterations.numpy()).all()
    assert not part["domain_left"].any()


def test_mmd_is_per_valid_group_and_small_groups_are_counted(table):
    assert table.loc[~table["validity"], "mmd"].isna().all()
    keys = ["model", "lambda_energy", "run", "target_label"]
    skipped = {"full": 0, "vanilla": 0}
    for key, group in table.groupby(keys):
        valid = group[group["validity"]]
        if len(valid) < 2:
            skipped[key[0]] += 1
            assert valid["mmd"].isna().all()
        else:
            assert valid["mmd"].nunique() == 1 and valid["mmd"].notna().all()
    assert table.attrs["mmd_groups_skipped"] == skipped
    assert sum(skipped.values()) > 0  # 12 individuals over 3 targets: small groups occur
    n_groups = table.groupby(["model", "lambda_energy", "run", "target_label"]).ngroups
    assert sum(table.attrs["mmd_groups"].values()) == n_groups


def test_individuals_without_a_predicted_factual_are_left_out_and_counted():
    constant = _model(3)
    with torch.no_grad():
        constant[-1].bias.copy_(torch.tensor([1e4, 0.0, 0.0]))  # always predicts class 0
    df = _run({"const": constant}, n_runs=2)
    assert set(df["factual_label"]) == {0}
    n_missing = 2 * 12 * len(SETTINGS) - len(df)
    assert n_missing > 0 and df.attrs["missing_factuals"] == {"const": n_missing}


def test_reproducible_and_independent_of_the_other_models(table):
    again = _run({"full": _model(1), "vanilla": _model(2)})
    pd.testing.assert_frame_equal(table, again)
    alone = _run({"full": _model(1)})
    pd.testing.assert_frame_equal(table[table["model"] == "full"].reset_index(drop=True), alone)
    other_seed = _run({"full": _model(1)}, seed=2)
    assert not other_seed["factual_index"].equals(alone["factual_index"])


def test_write_parquet_round_trip_leaves_no_temporary_files(table, tmp_path):
    path = write_parquet(table, tmp_path / "sub" / "ce.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, table)
    assert back.attrs["mmd_groups_skipped"] == table.attrs["mmd_groups_skipped"]
    assert [p.name for p in path.parent.iterdir()] == ["ce.parquet"]


def test_write_parquet_failure_keeps_the_old_file(table, tmp_path):
    path = write_parquet(table, tmp_path / "ce.parquet")
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises for a bad column
        write_parquet(pd.DataFrame({"bad": [object()]}), path)
    assert [p.name for p in tmp_path.iterdir()] == ["ce.parquet"]
    assert len(pd.read_parquet(path)) == len(table)
