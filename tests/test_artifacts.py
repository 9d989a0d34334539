"""Artifacts checked where they are read (issue 24): a model or an evaluation table whose digest
or identity is not the one asked for is refused, naming the file.

Models are built untrained (their weights do not matter to the checks) and recorded as the
smoke configuration's training jobs would record them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain import models
from cftrain.evaluation import write_parquet
from cftrain.pipeline import artifacts, cli, jobs
from cftrain.pipeline import config as cfg
from cftrain.pipeline.tables import read_evaluations
from workflow_helpers import ROOT, flip_bytes, flip_in_column


@pytest.fixture(scope="module")
def single() -> cfg.Experiment:
    return cfg.resolve({"scale": "smoke"}, ROOT)[1]["single"]


def _model_dir(root: Path, exp: cfg.Experiment, dataset: str, cell: str, seed: int) -> Path:
    """A model folder as ``cftrain train`` writes it: model.pt and params.json with the
    model's digest and identity."""
    out = root / exp.name / dataset / cell / f"seed{seed}"
    out.mkdir(parents=True)
    spec = exp.training(dataset, cell, seed)
    net = models.build("mlp", 2, 2, seed=seed)
    torch.save(net.state_dict(), out / artifacts.MODEL_FILE)
    params = {**spec, "config": jobs.training_config(spec).to_dict()}
    params.update(artifacts.sidecar(spec, out / artifacts.MODEL_FILE))
    (out / artifacts.PARAMS_FILE).write_text(json.dumps(params))
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch, single) -> Path:
    """A folder with the smoke spec of ``single`` and its moons models (seed 0) and a lin_sep
    model, the data cache beside them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CFTRAIN_DATA_DIR", raising=False)
    cfg.write_spec(single, tmp_path / "single.json")
    for dataset, cell in (("moons", "full"), ("moons", "vanilla"), ("lin_sep", "full")):
        _model_dir(tmp_path, single, dataset, cell, 0)
    return tmp_path


def _evaluate(workdir: Path, *extra: str) -> list[str]:
    return [
        "evaluate", "--spec", str(workdir / "single.json"), "--dataset", "moons",
        "--group", "all", "--protocol", "ecco", "--out", str(workdir / "eval.parquet"),
        "--device", "cpu", *extra,
    ]  # fmt: skip


def _refused(args: list[str], capsys) -> str:
    """What ``cftrain`` says on stderr when it refuses (one line, exit status 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        cli.main(args)
    assert refused.value.code == 2
    return capsys.readouterr().err


def test_a_model_with_flipped_bytes_is_refused_naming_the_file(workdir, single):
    folder = workdir / "single" / "moons" / "full" / "seed0"
    expected = artifacts.expected_model(single, "moons", "full", 0)
    assert artifacts.check_model(folder, expected)["model_digest"] == expected["model_digest"]
    flip_bytes(folder / artifacts.MODEL_FILE)
    with pytest.raises(artifacts.RefusedArtifact, match="changed after it was written") as err:
        artifacts.check_model(folder, expected)
    assert err.value.path == folder / artifacts.MODEL_FILE
    assert str(folder / artifacts.MODEL_FILE) in str(err.value)


def test_evaluate_refuses_a_model_of_another_dataset_seed_or_label(workdir, capsys):
    full = workdir / "single" / "moons" / "full" / "seed0"
    vanilla = workdir / "single" / "moons" / "vanilla" / "seed0"
    lin_sep = workdir / "single" / "lin_sep" / "full" / "seed0"
    # a lin_sep model given for moons
    message = _refused(_evaluate(workdir, f"--model=full={lin_sep}", f"--model=vanilla={vanilla}",
                                 "--seed", "0"), capsys)  # fmt: skip
    assert f"refused {lin_sep / 'model.pt'}" in message and "dataset" in message
    # seed-0 models asked for as seed 3
    message = _refused(_evaluate(workdir, f"--model=full={full}", f"--model=vanilla={vanilla}",
                                 "--seed", "3"), capsys)  # fmt: skip
    assert f"refused {full / 'model.pt'}" in message and "seed" in message
    # the vanilla model under the label full
    message = _refused(_evaluate(workdir, f"--model=full={vanilla}", f"--model=vanilla={vanilla}",
                                 "--seed", "0"), capsys)  # fmt: skip
    assert f"refused {vanilla / 'model.pt'}" in message and "cell" in message
    # one label twice (the last one would silently win)
    message = _refused(_evaluate(workdir, f"--model=full={full}", f"--model=full={vanilla}",
                                 f"--model=vanilla={vanilla}", "--seed", "0"), capsys)  # fmt: skip
    assert "--model names cells ['full'] more than once" in message
    # a cell of the group left out
    with pytest.raises(ValueError, match=r"lack cells \['vanilla'\]"):
        cli.main(_evaluate(workdir, f"--model=full={full}", "--seed", "0"))
    assert not (workdir / "eval.parquet").exists()


def test_the_workflow_moves_a_refused_model_aside_so_its_job_reruns(workdir, capsys):
    full = workdir / "single" / "moons" / "full" / "seed0"
    vanilla = workdir / "single" / "moons" / "vanilla" / "seed0"
    flip_bytes(full / "model.pt")
    args = _evaluate(workdir, f"--model=full={full}", f"--model=vanilla={vanilla}", "--seed", "0")
    message = _refused([*args, "--quarantine"], capsys)
    assert f"moved to {full / 'model.pt.refused'}" in message
    assert not (full / "model.pt").exists() and (full / "model.pt.refused").is_file()


def test_performance_refuses_two_models_of_one_cell_and_seed(workdir, capsys):
    full = workdir / "single" / "moons" / "full" / "seed0"
    args = ["performance", "--spec", str(workdir / "single.json"), "--dataset", "moons",
            "--out", str(workdir / "p.csv"), "--device", "cpu"]  # fmt: skip
    with pytest.raises(ValueError, match="a second model of cell 'full' seed 0"):
        cli.main([*args, "--models", str(full), str(full)])
    lin_sep = workdir / "single" / "lin_sep" / "full" / "seed0"
    message = _refused([*args, "--models", str(lin_sep)], capsys)
    assert f"refused {lin_sep / 'model.pt'}" in message


def _evaluation(single: cfg.Experiment, path: Path) -> pd.DataFrame:
    """A small evaluation table stamped with the identity of single's moons job, seed 0."""
    table = pd.DataFrame({"model": ["full", "vanilla"] * 50, "ip": [float(i) for i in range(100)]})
    identity = artifacts.expected_evaluation(single, "moons", "all", "ecco", 0)
    write_parquet(artifacts.stamp(table, identity), path)
    return table


def test_an_evaluation_table_with_flipped_bytes_or_changed_values_is_refused(tmp_path, single):
    path = tmp_path / "ecco-all-seed0.parquet"
    table = _evaluation(single, path)
    expected = artifacts.expected_evaluation(single, "moons", "all", "ecco", 0)
    pd.testing.assert_frame_equal(artifacts.read_evaluation(path, expected), table)
    # values changed behind the digest (what a silent corruption does): refused
    changed = pd.read_parquet(path)
    changed.loc[3, "ip"] = -8.72
    changed.to_parquet(path, index=False)  # the attrs (identity, digest) written unchanged
    with pytest.raises(artifacts.RefusedArtifact, match="values do not match") as err:
        artifacts.read_evaluation(path)
    assert err.value.path == path
    # four flipped bytes in the stored IP values: unreadable or changed, refused either way
    _evaluation(single, path)
    flip_in_column(path, "ip")
    with pytest.raises(artifacts.RefusedArtifact) as err:
        artifacts.read_evaluation(path)
    assert str(path) in str(err.value)


def test_aggregation_refuses_an_evaluation_of_another_spec(tmp_path, single):
    path = tmp_path / "ecco-all-seed0.parquet"
    _evaluation(single, path)
    expected = artifacts.expected_evaluations(single)
    assert len(read_evaluations([path], expected)) == 100
    other = {**single.spec, "evaluation": {**single.spec["evaluation"], "n_runs": 2}}
    stale = artifacts.expected_evaluations(cfg.Experiment(single.name, other))
    with pytest.raises(artifacts.RefusedArtifact, match="evaluation_digest differ"):
        read_evaluations([path], stale)
    with pytest.raises(ValueError, match="also given as"):
        read_evaluations([path, path], expected)
