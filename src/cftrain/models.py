"""Classifiers of method §3, initialised like Flux (Glorot-uniform weights, zero biases).

All models map features ``x: (N, D)`` to logits ``(N, K)``.
"""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def glorot_init_(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Flux's default init; PyTorch's default differs and would change the trained models."""
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(module.weight, generator=generator)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def mlp(
    n_features: int,
    n_classes: int,
    n_hidden: int = 32,
    n_layers: int = 1,
    activation: str = "relu",
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """Dense(D,H,act) → (n_layers−1)×Dense(H,H,act) → Dense(H,K)."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation={activation!r}; expected one of {sorted(_ACTIVATIONS)}")
    if n_layers < 1:
        raise ValueError(f"n_layers={n_layers}; expected >= 1")
    layers: list[nn.Module] = []
    width = n_features
    for _ in range(n_layers):
        layers += [nn.Linear(width, n_hidden), _ACTIVATIONS[activation]()]
        width = n_hidden
    layers.append(nn.Linear(width, n_classes))
    return glorot_init_(nn.Sequential(*layers), generator)


def linear(
    n_features: int, n_classes: int, generator: torch.Generator | None = None
) -> nn.Sequential:
    """Multinomial logistic regression: a single Dense(D,K)."""
    return glorot_init_(nn.Sequential(nn.Linear(n_features, n_classes)), generator)


def lenet(n_classes: int = 10, generator: torch.Generator | None = None) -> nn.Sequential:
    """LeNet-5 for flattened 28×28 images (row-major, as method §4.3 flattens MNIST)."""
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, n_classes),
    )
    return glorot_init_(model, generator)


def build(name: str, n_features: int, n_classes: int, seed: int = 0, **kwargs) -> nn.Module:
    """Build a model by name (``mlp``, ``linear``, ``lenet``) from an integer seed."""
    g = torch.Generator().manual_seed(seed)
    if name == "mlp":
        return mlp(n_features, n_classes, generator=g, **kwargs)
    if name == "linear":
        return linear(n_features, n_classes, generator=g)
    if name == "lenet":
        if n_features != 784:
            raise ValueError(f"lenet needs 784 features (28×28), got n_features={n_features}")
        return lenet(n_classes, generator=g)
    raise ValueError(f"unknown model {name!r}; expected 'mlp', 'linear' or 'lenet'")
