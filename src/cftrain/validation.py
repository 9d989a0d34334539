"""Input validation of the public entry points, in one place (issue 12).

Scalars are checked with strict pydantic types: a string is never a boolean, 2.5 is never
an integer, and ranges are explicit. Every refusal is a ``TypeError`` (wrong type) or a
``ValueError`` (wrong value) whose message names the argument, the value given and what
is allowed. Tensors are checked by shape and converted to the model's device and dtype,
so a user's float64 model, NumPy array or integer features work as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from torch import nn

_STRICT = ConfigDict(strict=True)

Count = Annotated[int, Field(ge=1)]
Seed = int
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Probability = Annotated[float, Field(gt=0, le=1)]  # a decision threshold τ (method §2.1)
Level = Annotated[float, Field(gt=0, lt=1)]  # a confidence level
Flag = bool

_ADAPTERS: dict[Any, TypeAdapter] = {}

#: what each type allows, in words, for the messages
_ALLOWED = {
    Count: "an integer ≥ 1",
    Count | None: "an integer ≥ 1 or None",
    Seed: "an integer",
    Positive: "a number > 0",
    NonNegative: "a number ≥ 0",
    Fraction: "a number in [0, 1]",
    Probability: "a number in (0, 1]",
    Level: "a number in (0, 1)",
    Flag: "True or False (a bool, not a string or number)",
}


def check(owner: str, name: str, value: Any, kind: Any) -> Any:
    """``value`` of argument ``name`` validated as ``kind`` (one of the types above).

    NumPy scalars count as their Python equivalents; ints are accepted for floats (and
    returned as floats). Raises TypeError/ValueError naming ``owner``, ``name``, the
    value and what is allowed.
    """
    if isinstance(value, np.generic):
        value = value.item()
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind, config=_STRICT)
    try:
        return adapter.validate_python(value)
    except ValidationError as err:
        wrong_type = any(e["type"].endswith("_type") for e in err.errors())
        raise (TypeError if wrong_type else ValueError)(
            f"{owner}: {name}={value!r} is not allowed; expected {_ALLOWED[kind]}"
        ) from None


def check_fields(owner: str, values: Mapping[str, Any], kinds: Mapping[str, Any]) -> dict:
    """Validate each of ``values`` that ``kinds`` names; returns the validated values."""
    return {k: check(owner, k, v, kinds[k]) for k, v in values.items() if k in kinds}


def choice(owner: str, name: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` must be one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{owner}: {name}={value!r} is not allowed; expected one of {allowed}")
    return value


#: TrainingConfig fields (method §1, §2.1); a field missing here has no extra check
TRAINING_CONFIG = {
    "lambda_clf": NonNegative,
    "lambda_div": NonNegative,
    "lambda_reg": NonNegative,
    "lambda_adv": NonNegative,
    "nepochs": Count,
    "batch_size": Count,
    "nce": Count | None,
    "burnin": Fraction,
    "lr": Positive,
    "lambda_cost": NonNegative,
    "lambda_energy": NonNegative,
    "tau": Probability,
    "max_iter": Count,
    "step_size": Positive,
    "ae_epsilon": NonNegative,
    "protect_immutable": Flag,
    "domain_bound": Flag,
    "seed": Seed,
}

#: the search's scalar settings (method §2.1), shared by ``search`` and the evaluation settings
SEARCH = {
    "tau": Probability,
    "max_iter": Count,
    "step_size": Positive,
    "ae_epsilon": NonNegative,
    "lambda_cost": NonNegative,
    "lambda_energy": NonNegative,
    "domain_bound": Flag,
}


def model_device_dtype(model: Any, owner: str = "model") -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of ``model``'s parameters (CPU/float32 without any)."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{owner}={type(model).__name__} is not allowed; expected a torch.nn.Module"
        )
    for p in model.parameters():
        if p.is_floating_point():
            if p.device.type == "meta":
                raise ValueError(
                    f"{owner} has its parameters on the meta device (shapes without values); "
                    "expected a model with weights: materialise it first, e.g. "
                    "model.to_empty(device='cpu') and then load_state_dict(...)"
                )
            return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def finite(owner: str, name: str, x: torch.Tensor) -> torch.Tensor:
    """``x`` unchanged if every entry is finite; a NaN or ±inf row is named, not computed on
    (a clamp would turn +inf into a domain bound and report it as a result)."""
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        rows = bad.reshape(bad.shape[0], -1).any(dim=1).nonzero().flatten().tolist()
        raise ValueError(
            f"{owner}: {name} has NaN or infinite values in {len(rows)} row(s), e.g. rows "
            f"{rows[:5]}; expected finite numbers (drop or impute those rows)"
        )
    return x


def features(owner: str, name: str, x: Any, device: torch.device, dtype: torch.dtype):
    """``x`` as a detached ``(N, D)`` tensor with N ≥ 1 on ``device`` in ``dtype``."""
    try:
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{owner}: {name} of type {type(x).__name__} is not a tensor") from err
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{owner}: {name} has dtype {t.dtype}; expected real numbers")
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError(
            f"{owner}: {name} has shape {tuple(t.shape)}; expected (N, D) with N ≥ 1 rows"
        )
    return t.detach().to(device=device, dtype=dtype)


def labels(owner: str, name: str, y: Any, n: int, n_classes: int, device: torch.device):
    """Class indices ``y: (n,)`` in ``0..n_classes-1`` as int64 on ``device``.

    Float labels are accepted only when whole numbers (0.7 is an error, not class 0).
    """
    t = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).detach()
    if t.shape != (n,):
        raise ValueError(f"{owner}: {name} has shape {tuple(t.shape)}; expected ({n},)")
    if t.is_floating_point() and not bool((t == t.round()).all()):
        bad = ", ".join(f"{v:g}" for v in t[t != t.round()][:3].tolist())
        raise ValueError(f"{owner}: {name} has non-integer class labels [{bad}]; expected integers")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{owner}: {name} has dtype {t.dtype}; expected integer class labels")
    t = t.long()
    out = (t < 0) | (t >= n_classes)
    if bool(out.any()):
        raise ValueError(
            f"{owner}: {name} has labels {sorted(set(t[out].tolist()))[:5]} outside the "
            f"model's classes 0..{n_classes - 1}"
        )
    return t.to(device)


def n_outputs(owner: str, model: nn.Module, x: torch.Tensor) -> int:
    """Number of classes of ``model`` from one row of ``x``; a width mismatch is named."""
    try:
        with torch.no_grad():
            logits = model(x[:1])
    except RuntimeError as err:
        raise ValueError(
            f"{owner}: the model cannot take x of shape {tuple(x.shape)} (dtype {x.dtype}): {err}"
        ) from err
    if logits.ndim != 2:
        raise ValueError(
            f"{owner}: the model returns shape {tuple(logits.shape)} for one row; expected "
            "(1, K) logits"
        )
    return int(logits.shape[1])


def search_inputs(
    model: nn.Module,
    x: Any,
    target: Any,
    constraints: Any,
    settings: Mapping[str, Any],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated ``search`` inputs: x and targets on the model's device/dtype (method §2.1)."""
    device, dtype = model_device_dtype(model, "search: model")
    check_fields("search", settings, SEARCH)
    x = finite("search", "x", features("search", "x", x, device, dtype))
    width = None if constraints is None else constraints.n_features
    if width is not None and width != x.shape[1]:
        raise ValueError(
            f"search: x has {x.shape[1]} features but the constraints describe {width}"
        )
    target = labels("search", "target", target, x.shape[0], n_outputs("search", model, x), device)
    return x, target


def models_mapping(owner: str, models: Any) -> Mapping[str, nn.Module]:
    """A non-empty name → ``nn.Module`` mapping."""
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"{owner}: models={models!r} is not allowed; expected a non-empty dict")
    for name, model in models.items():
        if not isinstance(name, str) or not isinstance(model, nn.Module):
            raise TypeError(
                f"{owner}: models[{name!r}] is a {type(model).__name__}; expected str → "
                "torch.nn.Module"
            )
    return models


def non_empty(owner: str, name: str, items: Any, kind: type | tuple[type, ...]) -> Sequence:
    """A non-empty sequence of ``kind`` instances."""
    items = list(items) if isinstance(items, Sequence) and not isinstance(items, str) else None
    if not items or not all(isinstance(i, kind) for i in items):
        what = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ValueError(
            f"{owner}: {name}={items!r} is not allowed; expected a non-empty list of {what}"
        )
    return items


def models_in_table(owner: str, present: Sequence[str], **wanted: str) -> None:
    """Each of ``wanted`` (argument name → model name) is among the table's models."""
    for arg, model in wanted.items():
        if model not in present:
            raise ValueError(
                f"{owner}: {arg}={model!r} is not among the table's models {sorted(present)}; "
                f"pass {arg}= one of them"
            )
