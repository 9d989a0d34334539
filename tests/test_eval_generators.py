"""Evaluation with every generator kind (issue 14: the initial grid's own-generator protocol)."""

from __future__ import annotations

import pytest
import torch

from cftrain.evaluation import EvalSetting, benchmark, predict
from cftrain.generators import REVISE, ECCo, Generic, Omniscient
from cftrain.models import build


def _toy():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 2, generator=g) * 4 - 2
    y = (x[:, 0] > 0).long()
    return x, y


def test_settings_build_all_four_generators():
    x, _ = _toy()
    kinds = {
        "ECCo": ECCo,
        "Generic": Generic,
        "Omniscient": Omniscient,
        "REVISE": REVISE,
    }
    for name, cls in kinds.items():
        assert isinstance(EvalSetting(lambda_energy=1.0, generator=name).build(pool=x), cls)
    with pytest.raises(ValueError, match="needs the training pool"):
        EvalSetting(lambda_energy=1.0, generator="Omniscient").build()
    with pytest.raises(ValueError, match="expected one of"):
        EvalSetting(lambda_energy=1.0, generator="Wachter")


def test_omniscient_evaluation_returns_pool_points_the_model_predicts_as_target():
    x, y = _toy()
    model = build("mlp", 2, 2, seed=0)
    setting = EvalSetting(lambda_energy=1.0, generator="Omniscient", tau=0.5)
    table = benchmark(
        {"m": model}, x, y, [setting], n_classes=2, n_individuals=10, n_runs=3, pool=x
    )
    assert (table["generator"] == "Omniscient").all() and (table["iterations"] == 0).all()
    # every counterfactual is a pool point predicted as the target: valid by construction
    predicted = predict(model, x)
    found = table["target_label"].isin(predicted.unique().tolist())
    assert table.loc[found, "validity"].all()
