"""One library call trains a cell (issue 14); the CLI wraps it and reports failures by cell id."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain import data, models
from cftrain.experiment import cell_config, resolve_device, train_cell
from cftrain.pipeline import config as cfg
from cftrain.pipeline.cli import main
from cftrain.training import counterfactual_training, final_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def moons() -> data.Dataset:
    return data.load("moons")


def test_train_cell_equals_building_and_training_by_hand(moons):
    config = dataclasses.replace(final_config("moons", "full", seed=4), nepochs=2, nce=60)
    by_hand = models.build("mlp", moons.n_features, moons.n_classes, seed=4)
    expected = counterfactual_training(by_hand, moons, config, quiet=True)
    result = train_cell(moons, config)
    for a, b in zip(result.model.state_dict().values(), by_hand.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    pd.testing.assert_frame_equal(
        result.log.drop(columns="seconds"), expected.log.drop(columns="seconds")
    )


def test_cell_config_applies_base_then_overrides():
    config = cell_config("gmsc", objective="vanilla", seed=2, overrides={"nepochs": 5})
    assert config == dataclasses.replace(final_config("gmsc", "vanilla", seed=2), nepochs=5)
    default = cell_config("gmsc", base="default", overrides={"tau": 0.9})
    assert (default.tau, default.batch_size, default.lambda_reg) == (0.9, 30, 0.1)
    with pytest.raises(ValueError, match="base='paper'"):
        cell_config("gmsc", base="paper")


def test_device_auto_follows_torch_and_cuda_without_gpu_is_a_clear_error():
    has_gpu = torch.cuda.is_available()
    assert resolve_device("auto").type == ("cuda" if has_gpu else "cpu")
    assert resolve_device("cpu").type == "cpu"
    if has_gpu:
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="device=cuda was requested but torch sees no GPU"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="expected one of"):
        resolve_device("tpu")


def _spec_file(tmp_path, **fixed) -> str:
    """A spec file of a one-dataset experiment ``unit`` (cells ``full`` and ``vanilla``)."""
    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    spec = cfg.validate(
        {"datasets": ["moons"], "train": {"fixed": {"nepochs": 2, "nce": 60, **fixed}}},
        schema,
        "unit",
    )
    return str(cfg.write_spec(cfg.Experiment("unit", spec), tmp_path / "unit.json"))


def _train(spec: str, out) -> list[str]:
    return ["train", "--spec", spec, "--dataset", "moons", "--cell", "full", "--seed", "0",
            "--out", str(out), "--device", "cpu"]  # fmt: skip


def test_cli_train_writes_outputs_and_a_one_line_summary(tmp_path, capsys):
    out = tmp_path / "out"
    main(_train(_spec_file(tmp_path), out))
    line = capsys.readouterr().out.strip()
    assert line.startswith("trained unit/moons/full/seed0: 2 epochs, accuracy ")
    assert "% mature" in line and line.endswith("s on cpu")
    params = json.loads((out / "params.json").read_text())
    assert params["device"] == "cpu" and params["summary"]["epochs"] == 2
    expected = dataclasses.replace(final_config("moons", "full"), nepochs=2, nce=60)
    assert params["config"] == expected.to_dict()
    log = pd.read_csv(out / "log.csv")
    assert list(log["epoch"]) == [1, 2]
    assert abs(params["summary"]["accuracy"] - log["accuracy"].iloc[-1]) < 1e-12
    assert sorted(p.name for p in out.iterdir()) == ["log.csv", "model.pt", "params.json"]


def test_cli_train_failure_names_the_cell(tmp_path, capsys):
    spec = _spec_file(tmp_path, lr=1e39)  # the first step overflows float32 (a bad value the
    # spec file cannot refuse: those, e.g. nce above the training points, fail before training)
    with pytest.raises(SystemExit) as err:
        main(_train(spec, tmp_path / "out"))
    assert "cell unit/moons/full seed 0 failed" in str(err.value.code)
    assert "became non-finite" in capsys.readouterr().err
