"""The workflow's batched training job (issue 25 part 3): ``cftrain train-batch`` writes each
cell's usual files, equal to the one-cell job's; a killed job resumes bitwise; a rerun
trains only missing cells; a failed cell fails the job by its id after the others are
written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain.pipeline import config as cfg
from cftrain.pipeline.cli import main
from cftrain.pipeline.jobs import BatchFailure, train_batch_job, train_job

ROOT = Path(__file__).resolve().parents[1]
FILES = ("model.pt", "log.csv", "params.json")


def _experiment() -> cfg.Experiment:
    """Three full cells on moons differing in λ_energy (one batch), two seeds."""
    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    spec = cfg.validate(
        {
            "datasets": ["moons"],
            "seeds": [0, 1],
            "tables": ["accuracy"],  # no CT-vs-BL table: the grid has no baseline cell
            "train": {
                "fixed": {"nepochs": 3, "nce": 60},
                "grid": {"objective": ["full"], "lambda_energy": [0.5, 5.0, 50.0]},
            },
        },
        schema,
        "unit",
    )
    return cfg.Experiment("unit", spec)


def _specs(exp: cfg.Experiment) -> list[dict]:
    return [exp.training("moons", c.id, s) for c in exp.cells for s in exp.seeds]


def _outs(root: Path, specs) -> list[Path]:
    return [root / s["cell"] / f"seed{s['seed']}" for s in specs]


def _same(a: Path, b: Path) -> None:
    """Same model bitwise and same log (but the wall times)."""
    sa = torch.load(a / "model.pt", weights_only=True)
    sb = torch.load(b / "model.pt", weights_only=True)
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    la, lb = (pd.read_csv(p / "log.csv").drop(columns="seconds") for p in (a, b))
    pd.testing.assert_frame_equal(la, lb, check_exact=True)
    pa, pb = (json.loads((p / "params.json").read_text()) for p in (a, b))
    assert pa["config"] == pb["config"]


def test_one_batch_is_one_job_per_cell_and_records_the_batch(tmp_path):
    exp = _experiment()
    (batch,) = cfg.training_batches([exp])
    assert batch.id == "b000" and len(batch.cells) == 6
    assert [len(b.cells) for b in cfg.training_batches([exp], 4)] == [4, 2]
    specs = _specs(exp)
    outs = _outs(tmp_path / "batch", specs)
    line = train_batch_job(specs, outs, tmp_path / "ckpt", "b000", "cpu")
    assert "trained 6 of 6 cells" in line
    for spec, out in zip(specs[::3], outs[::3], strict=True):  # a few cells alone
        alone = tmp_path / "alone" / out.relative_to(tmp_path / "batch")
        train_job(spec, alone, "cpu")
        _same(out, alone)
    params = json.loads((outs[0] / "params.json").read_text())
    assert params["batch"] == "b000" and params["k"] == 6 and params["seconds"] > 0
    assert sorted(p.name for p in outs[0].iterdir()) == sorted(FILES)
    assert not (tmp_path / "ckpt").exists()  # checkpoints removed when done


def test_a_killed_batch_resumes_bitwise_and_a_rerun_trains_only_missing_cells(tmp_path):
    specs = _specs(_experiment())
    whole = _outs(tmp_path / "whole", specs)
    train_batch_job(specs, whole, tmp_path / "ckpt-whole", device="cpu")
    killed = _outs(tmp_path / "killed", specs)
    train_batch_job(specs, killed, tmp_path / "ckpt", device="cpu", stop_after_epoch=1)
    assert not any(o.exists() for o in killed) and any((tmp_path / "ckpt").iterdir())
    train_batch_job(specs, killed, tmp_path / "ckpt", device="cpu")  # resumes at epoch 2
    for a, b in zip(whole, killed, strict=True):
        _same(a, b)
    # a rerun: only the cell whose files are missing trains (alone, K = 1), the rest stay
    (killed[2] / "params.json").unlink()
    stamps = {o: (o / "model.pt").stat().st_mtime_ns for o in killed}
    line = train_batch_job(specs, killed, tmp_path / "ckpt", "b000", "cpu")
    assert "trained 1 of 6 cells" in line
    assert all((o / "model.pt").stat().st_mtime_ns == stamps[o] for o in killed if o != killed[2])
    assert json.loads((killed[2] / "params.json").read_text())["k"] == 1
    _same(whole[2], killed[2])
    assert train_batch_job(specs, killed, tmp_path / "ckpt").endswith("already trained")


def test_a_failed_cell_fails_the_job_by_its_id_and_the_others_keep_their_outputs(tmp_path):
    specs = _specs(_experiment())
    poisoned = dict(specs[1], overrides={**specs[1]["overrides"], "lambda_div": 3e38,
                                         "tau": 0.6, "lr": 0.02})  # fmt: skip
    specs[1] = poisoned
    outs = _outs(tmp_path, specs)
    with pytest.raises(BatchFailure, match=r"unit/moons/full_egy0\.5/seed1 \(epoch 1"):
        train_batch_job(specs, outs, tmp_path / "ckpt", device="cpu")
    assert not outs[1].exists()
    assert all((o / f).is_file() for o in outs if o != outs[1] for f in FILES)
    # Snakemake deletes the failed job's outputs; the fixed rerun trains only the failed cell
    good = {o: (o / "model.pt").read_bytes() for o in outs if o != outs[1]}
    for o in good:
        for f in FILES:
            (o / f).unlink()
    specs[1] = _specs(_experiment())[1]
    line = train_batch_job(specs, outs, tmp_path / "ckpt", device="cpu")
    assert "trained 1 of 6 cells" in line
    assert all((o / "model.pt").read_bytes() == b for o, b in good.items())
    assert json.loads((outs[1] / "params.json").read_text())["k"] == 1
    assert not (tmp_path / "ckpt").exists()


def test_cli_train_batch_trains_the_named_cells(tmp_path, capsys):
    exp = _experiment()
    spec = cfg.write_spec(exp, tmp_path / "unit.json")
    cell = exp.cells[0].id
    args = ["train-batch", "--spec", str(spec), "--dataset", "moons", "--batch", "b007",
            "--checkpoint", str(tmp_path / "ckpt"), "--device", "cpu"]  # fmt: skip
    for seed in (0, 1):
        args += ["--cell", cell, "--seed", str(seed), "--out", str(tmp_path / f"s{seed}")]
    main(args)
    out = capsys.readouterr().out
    assert f"trained unit/moons/{cell}/seed1: 3 epochs, accuracy " in out
    assert re.search(r"batch b007: trained 2 of 2 cells, [\d.]+ s on cpu", out)
    assert json.loads((tmp_path / "s1" / "params.json").read_text())["batch"] == "b007"


def test_the_dag_side_batch_fields_are_the_libraries_and_name_config_fields():
    import dataclasses

    from cftrain.training import BATCH_FIELDS, TrainingConfig

    assert cfg.BATCH_FIELDS is BATCH_FIELDS  # one tuple, not a copy that can drift
    assert set(BATCH_FIELDS) <= {f.name for f in dataclasses.fields(TrainingConfig)}


def test_a_batch_job_killed_mid_epoch_resumes_bitwise(tmp_path):
    """``cftrain train-batch`` SIGKILLed in its second epoch (its first checkpoint written),
    then run again: every cell's files equal those of an uninterrupted batch."""
    exp = _experiment()
    exp.spec["train"]["fixed"]["nepochs"] = 6
    spec = cfg.write_spec(exp, tmp_path / "unit.json")

    def args(root: Path) -> list[str]:
        out = ["train-batch", "--spec", str(spec), "--dataset", "moons", "--batch", "b000",
               "--checkpoint", str(root / "ckpt"), "--device", "cpu"]  # fmt: skip
        for c in exp.cells:
            for s in exp.seeds:
                out += ["--cell", c.id, "--seed", str(s), "--out", str(root / c.id / str(s))]
        return out

    main(args(tmp_path / "whole"))
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    code = "import sys; from cftrain.pipeline.cli import main; main(sys.argv[1:])"
    proc = subprocess.Popen([sys.executable, "-c", code, *args(killed)], env=env)
    deadline = time.monotonic() + 120
    while not list((killed / "ckpt").glob("*/checkpoint.pt")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)  # into the next epoch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not any((killed / c.id).exists() for c in exp.cells), "killed too late"
    main(args(killed))
    for c in exp.cells:
        for s in exp.seeds:
            _same(tmp_path / "whole" / c.id / str(s), killed / c.id / str(s))


def test_an_evaluation_reusing_rows_of_another_equals_one_that_searches_itself(tmp_path):
    """``cftrain evaluate --reuse``: a cell's rows copied from an earlier table of the same
    settings give the table that searching every cell gives (the path the ablation takes for
    single's models)."""
    from cftrain.pipeline.jobs import evaluate_job

    exp = _experiment()
    specs = [s for s in _specs(exp) if s["seed"] == 0]
    outs = _outs(tmp_path / "models", specs)
    train_batch_job(specs, outs, tmp_path / "ckpt", "b000", "cpu")
    spec = {**exp.evaluation("moons", "all", "ecco"), "n_individuals": 10, "n_runs": 2}
    dirs = {s["cell"]: str(out) for s, out in zip(specs, outs, strict=True)}
    evaluate_job(spec, dirs, tmp_path / "searched.parquet", 0, "cpu")
    reused = {specs[0]["cell"]: str(tmp_path / "searched.parquet")}
    line = evaluate_job(spec, dirs, tmp_path / "copied.parquet", 0, "cpu", reused)
    assert f"({specs[0]['cell']} copied)" in line
    searched, copied = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in ("searched", "copied"))
    pd.testing.assert_frame_equal(copied, searched)
