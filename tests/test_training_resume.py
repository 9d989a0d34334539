"""Checkpointing: an interrupted run resumed in a fresh process is bitwise the straight run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain import checkpoint
from cftrain.models import build
from cftrain.training import CHECKPOINT_NAME, TrainingConfig, counterfactual_training

# argv: checkpoint dir or "none", stop_after_epoch or "none", output file, model kind
RUN = """
import sys, torch
torch.set_num_threads(1)
from torch import nn
from cftrain.models import build
from cftrain.training import TrainingConfig, counterfactual_training
g = torch.Generator().manual_seed(0)
y = torch.randint(0, 2, (240,), generator=g)
x = torch.randn(240, 2, generator=g) + 2.5 * y[:, None].float()
cfg = TrainingConfig(nepochs=6, batch_size=30, nce=80, tau=0.6, lr=0.02, seed=11)
ckpt, stop, out, kind = sys.argv[1:5]
model = build("mlp", 2, 2, seed=5)
if kind == "dropout":  # dropout draws: from the run's checkpointed stream, not the global RNG
    model = nn.Sequential(model[0], model[1], nn.Dropout(0.3), model[2])
torch.manual_seed(int(stop) if stop != "none" else 99)  # global RNG differs between processes
result = counterfactual_training(
    model, (x[:200], y[:200], x[200:], y[200:]), cfg,
    checkpoint_dir=None if ckpt == "none" else ckpt,
    stop_after_epoch=None if stop == "none" else int(stop), quiet=True,
)
torch.save({"params": result.model.state_dict(),
            "log": result.log.drop(columns="seconds").to_dict("list")}, out)
"""


def _run(tmp_path: Path, name: str, ckpt: Path | None, stop: int | None, kind: str) -> dict:
    out = tmp_path / f"{name}.pt"
    args = [str(ckpt or "none"), str(stop or "none"), str(out), kind]
    subprocess.run([sys.executable, "-c", RUN, *args], check=True, timeout=300)
    return torch.load(out, weights_only=True)


@pytest.mark.parametrize("kind", ["mlp", "dropout"])
def test_resume_in_fresh_process_is_bitwise_identical(tmp_path, kind):
    straight = _run(tmp_path, "straight", None, None, kind)
    ckpt = tmp_path / "ckpt"
    first = _run(tmp_path, "first", ckpt, 3, kind)
    assert len(first["log"]["epoch"]) == 3
    assert checkpoint.load(ckpt / CHECKPOINT_NAME)["epoch"] == 3
    resumed = _run(tmp_path, "resumed", ckpt, None, kind)
    assert straight["params"].keys() == resumed["params"].keys()
    for key, value in straight["params"].items():
        assert torch.equal(value, resumed["params"][key]), key
    # the sweep ran in every epoch and the whole log (bar timings) matches
    assert min(straight["log"]["percent_mature"]) > 0
    pd.testing.assert_frame_equal(pd.DataFrame(straight["log"]), pd.DataFrame(resumed["log"]))
    # the interrupted run's first three epochs really differ from its end state
    assert not torch.equal(first["params"]["0.weight"], resumed["params"]["0.weight"])
    assert sorted(p.name for p in ckpt.iterdir()) == [CHECKPOINT_NAME]  # no temp files left


def _small_run(ckpt: Path, **overrides):
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (90,), generator=g)
    x = torch.randn(90, 2, generator=g) + 2.5 * y[:, None].float()
    cfg = TrainingConfig(nepochs=2, batch_size=30, nce=30, **overrides)
    return counterfactual_training(build("mlp", 2, 2), (x, y), cfg, checkpoint_dir=ckpt, quiet=True)


def test_finished_run_returns_at_once_with_the_saved_state(tmp_path):
    done = _small_run(tmp_path)
    again = _small_run(tmp_path)  # a fresh model: everything comes from the checkpoint
    pd.testing.assert_frame_equal(done.log, again.log)  # same timings: nothing was re-run
    for p, q in zip(done.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_resuming_with_another_config_is_refused(tmp_path):
    _small_run(tmp_path)
    with pytest.raises(ValueError, match="different config"):
        _small_run(tmp_path, lambda_reg=0.5)
