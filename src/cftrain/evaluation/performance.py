"""Predictive performance on the full test set (method §5.4): accuracy and macro F1."""

from __future__ import annotations

import torch
from torch import nn

from cftrain.modes import evaluating

_PREDICT_BATCH = 65536


@evaluating
@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = _PREDICT_BATCH) -> torch.Tensor:
    """Predicted class ``argmax M(x)`` for ``x: (N, D)`` → (N,) int64, in memory-bounded chunks."""
    return torch.cat([model(chunk).argmax(dim=1) for chunk in x.split(batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of ``x: (N, D)`` whose prediction equals ``y: (N,)``."""
    return float((predict(model, x) == y).double().mean())


def f1_macro(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> float:
    """Unweighted mean over all ``n_classes`` of the per-class F1 = 2TP/(2TP+FP+FN).

    MLJ's ``multiclass_f1score`` default (macro average) used by the appendix grids; a class
    with no true and no predicted members contributes 0.
    """
    y_true, y_pred = y_true.long().flatten(), y_pred.long().flatten()
    confusion = (
        torch.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
        .reshape(n_classes, n_classes)
        .double()
    )
    tp = confusion.diagonal()
    denom = confusion.sum(0) + confusion.sum(1)  # (TP+FP) + (TP+FN)
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    return float(f1.mean())


def f1_score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> float:
    """Macro F1 of the model's predictions on ``x: (N, D)`` against ``y: (N,)``."""
    return f1_macro(y, predict(model, x), n_classes)
