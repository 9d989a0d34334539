"""Train/eval modes of the model, set in one place (issue 12).

Searching, sweeping, evaluating, attacking and attributing read the model as a fixed
function, so they run it in eval mode: dropout is off, batch norm uses its running
statistics (rows stay independent, buffers are not updated). Only the optimiser steps of
training run in train mode. Both context managers restore each module's previous modes,
so a caller's model comes back as it was given.

Dropout in train mode draws from torch's global RNG; :class:`DropoutStream` gives those
draws a state of their own that a checkpoint saves, so a resumed run is bitwise the
straight one and the caller's global RNG is left alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import torch
from torch import nn


def _modes(models: tuple[nn.Module, ...]) -> list[list[tuple[nn.Module, bool]]]:
    return [[(m, m.training) for m in model.modules()] for model in models]


def _restore(saved: list[list[tuple[nn.Module, bool]]]) -> None:
    for modules in saved:
        for module, training in modules:
            module.training = training


@contextmanager
def eval_mode(*models: nn.Module) -> Iterator[None]:
    """Run ``models`` in eval mode inside the block; restore every submodule's mode after."""
    saved = _modes(models)
    for model in models:
        model.eval()
    try:
        yield
    finally:
        _restore(saved)


@contextmanager
def train_mode(*models: nn.Module) -> Iterator[None]:
    """Run ``models`` in train mode inside the block; restore every submodule's mode after."""
    saved = _modes(models)
    for model in models:
        model.train()
    try:
        yield
    finally:
        _restore(saved)


P = ParamSpec("P")
R = TypeVar("R")


def evaluating(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``function`` with its first argument (a model, or a name → model
    mapping) in eval mode, restoring the previous modes afterwards."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        first = args[0] if args else None
        found = first.values() if isinstance(first, Mapping) else [first]
        with eval_mode(*(m for m in found if isinstance(m, nn.Module))):
            return function(*args, **kwargs)

    return wrapper


class DropoutStream:
    """The RNG state that dropout (and any other global-RNG draw in a training step) uses.

    ``with stream.active():`` swaps the global RNG of the CPU (and of ``device`` if it is
    a CUDA device) to this stream's state and stores the advanced state on exit; the
    global state outside the block is untouched. ``state()``/``load_state()`` go into
    a checkpoint.
    """

    def __init__(self, seed: int, device: torch.device) -> None:
        self.device = device
        self._cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=self._cuda):
            torch.manual_seed(seed)
            self._cpu_state, self._cuda_state = self._capture()

    def _capture(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self.device) if self._cuda else None
        return torch.get_rng_state(), cuda

    @contextmanager
    def active(self) -> Iterator[None]:
        with torch.random.fork_rng(devices=self._cuda):
            torch.set_rng_state(self._cpu_state)
            if self._cuda_state is not None:
                torch.cuda.set_rng_state(self._cuda_state, self.device)
            try:
                yield
            finally:
                self._cpu_state, self._cuda_state = self._capture()

    def state(self) -> dict[str, torch.Tensor | None]:
        return {"cpu": self._cpu_state, "cuda": self._cuda_state}

    def load_state(self, state: dict[str, torch.Tensor | None]) -> None:
        self._cpu_state = state["cpu"]
        self._cuda_state = state["cuda"] if self._cuda else None
