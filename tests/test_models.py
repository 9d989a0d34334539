"""Models of method §3: shapes, Flux-like initialisation, seeded construction."""

from __future__ import annotations

import math

import pytest
import torch

from cftrain.constraints import Constraints
from cftrain.models import build, mlp


@pytest.mark.parametrize(
    ("name", "d", "k"), [("mlp", 108, 2), ("linear", 8, 2), ("lenet", 784, 10)]
)
def test_logits_shape_and_glorot_init(name, d, k):
    model = build(name, d, k, seed=0)
    assert model(torch.randn(5, d)).shape == (5, k)
    for module in model.modules():
        if isinstance(module, torch.nn.Linear | torch.nn.Conv2d):
            w = module.weight.detach()
            fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(w)
            bound = math.sqrt(6 / (fan_in + fan_out))
            assert float(w.abs().max()) <= bound
            assert float(w.abs().max()) > 0.8 * bound  # uniform fills the range
            assert bool((module.bias == 0).all())


def test_seeded_build_is_reproducible():
    a, b, c = build("mlp", 4, 3, seed=1), build("mlp", 4, 3, seed=1), build("mlp", 4, 3, seed=2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].weight, c[0].weight)


def test_mlp_depth_and_bad_arguments():
    assert len([m for m in mlp(3, 2, n_layers=3).modules() if isinstance(m, torch.nn.Linear)]) == 4
    with pytest.raises(ValueError, match="activation"):
        mlp(3, 2, activation="gelu2")
    with pytest.raises(ValueError, match="unknown model"):
        build("resnet", 3, 2)


def test_constraints_validate_their_input():
    with pytest.raises(ValueError, match="sideways"):
        Constraints(mutability=("both", "sideways"))
    with pytest.raises(ValueError, match="lower bound above upper"):
        Constraints(lower=torch.tensor([0.0, 1.0]), upper=torch.tensor([1.0, 0.0]))
    cons = Constraints.from_immutable(3, [1])
    assert cons.mutability == ("both", "none", "both")
    with pytest.raises(ValueError, match="3 features"):
        cons.project_step(torch.zeros(2, 4))


def test_step_projection_by_hand():
    cons = Constraints(
        lower=torch.tensor([-1.0, -1.0, -1.0, -1.0]),
        upper=torch.tensor([1.0, 1.0, 1.0, 1.0]),
        mutability=("both", "increase", "decrease", "none"),
    )
    delta = torch.tensor([[0.5, -0.5, -0.5, 0.5], [-0.5, 0.5, 0.5, -0.5]])
    projected = cons.project_step(delta)
    assert torch.equal(projected, torch.tensor([[0.5, 0.0, -0.5, 0.0], [-0.5, 0.5, 0.0, 0.0]]))
    assert torch.equal(
        cons.clamp(torch.tensor([[2.0, -3.0, 0.5, 1.0]])), torch.tensor([[1.0, -1.0, 0.5, 1.0]])
    )
