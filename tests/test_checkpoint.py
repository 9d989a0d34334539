"""Checkpoints that cannot lie (issue 12): digests, data identity, config, non-finite stop."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from cftrain import checkpoint
from cftrain.data import from_arrays
from cftrain.models import build
from cftrain.training import CHECKPOINT_NAME, TrainingConfig, counterfactual_training


def _data(seed: int = 1, shift: float = 2.5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (90,), generator=g)
    return torch.randn(90, 2, generator=g) + shift * y[:, None].float(), y


def _train(ckpt, data=None, model=None, **overrides):
    cfg = TrainingConfig(**{"nepochs": 2, "batch_size": 30, "nce": 30, **overrides})
    model = model or build("mlp", 2, 2)
    return counterfactual_training(model, data or _data(), cfg, checkpoint_dir=ckpt, quiet=True)


def _refused(ckpt, **kwargs) -> str:
    with pytest.raises(checkpoint.CheckpointError) as info:
        _train(ckpt, **kwargs)
    message = str(info.value)
    assert str(ckpt / CHECKPOINT_NAME) in message and "restart=True" in message
    return message


def test_bit_flipped_checkpoint_is_refused_with_the_file_named(tmp_path):
    _train(tmp_path, nepochs=1)
    path = tmp_path / CHECKPOINT_NAME
    raw = bytearray(path.read_bytes())
    for i in range(len(raw) // 2, len(raw) // 2 + 16):  # 16 flipped bytes in the payload
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert "corrupt or truncated" in _refused(tmp_path)


def test_truncated_checkpoint_is_refused_with_the_file_named(tmp_path):
    _train(tmp_path, nepochs=1)
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(path.read_bytes()[:-100])
    assert "corrupt or truncated" in _refused(tmp_path)


def test_restart_ignores_a_corrupt_checkpoint_and_replaces_it(tmp_path):
    straight = _train(tmp_path / "straight")
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"garbage")
    cfg = TrainingConfig(nepochs=2, batch_size=30, nce=30)
    again = counterfactual_training(
        build("mlp", 2, 2), _data(), cfg, checkpoint_dir=tmp_path, quiet=True, restart=True
    )
    assert checkpoint.load(tmp_path / CHECKPOINT_NAME)["epoch"] == 2
    for p, q in zip(straight.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_checkpoint_of_another_dataset_is_refused(tmp_path):
    x, y = _data()
    moons = from_arrays(x[:70].numpy(), y[:70].numpy(), x[70:].numpy(), y[70:].numpy())
    x2, y2 = _data(seed=2)
    circles = from_arrays(
        x2[:70].numpy(), y2[:70].numpy(), x2[70:].numpy(), y2[70:].numpy(), name="own"
    )
    _train(tmp_path, data=moons, nce=20)
    message = _refused(tmp_path, data=circles, nce=20)  # same name and config, other arrays
    assert "other training data" in message


def test_larger_nepochs_continues_the_run_as_if_straight(tmp_path):
    straight = _train(tmp_path / "straight", nepochs=4)
    _train(tmp_path / "extended", nepochs=2)
    extended = _train(tmp_path / "extended", nepochs=4)
    assert extended.log["epoch"].tolist() == [1, 2, 3, 4]
    for p, q in zip(straight.model.parameters(), extended.model.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("overrides", [{"nepochs": 1}, {"lambda_reg": 0.5}, {"seed": 3}])
def test_any_other_config_change_is_refused(tmp_path, overrides):
    _train(tmp_path)
    assert "different config" in _refused(tmp_path, **overrides)


class _Poisoned(nn.Module):
    """An MLP whose first weight turns NaN in its 5th training forward pass (epoch 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = build("mlp", 2, 2)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls == 5:
                with torch.no_grad():
                    self.net[0].weight[0, 0] = float("nan")
        return self.net(x)


def test_non_finite_parameters_stop_training_naming_the_epoch(tmp_path):
    with pytest.raises(FloatingPointError, match=re.escape("epoch 2: model parameters")):
        _train(tmp_path, model=_Poisoned(), nepochs=4, objective="vanilla")
    assert checkpoint.load(tmp_path / CHECKPOINT_NAME)["epoch"] == 1  # the last good state
