"""The counterfactual benchmark of method §5.2 → one tidy table, one row per counterfactual.

Per evaluation setting (one λ_egy of the ECCo evaluation generator): label pairs are drawn
once and reused for every run and model (deviations §9 item 8); per model, the factuals of all
J runs are drawn at once from the test points the model *predicts* as the factual class, all
J × n_individuals counterfactuals are searched in ONE batched call (rows are independent), and
every metric is computed vectorised over them.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from cftrain import sizes, validation
from cftrain.atomic import atomic_path
from cftrain.categorical import Categorical, onehot_validity
from cftrain.constraints import Constraints
from cftrain.data.bundle import Dataset
from cftrain.evaluation.counterfactual_metrics import (
    DEFAULT_IP_SAMPLES,
    constraint_violations,
    cost,
    implausibility,
    redundancy,
    validity,
)
from cftrain.evaluation.divergence import DEFAULT_LENGTH_SCALE, DEFAULT_SUBSAMPLE, mmd2_by_group
from cftrain.evaluation.performance import predict
from cftrain.generators import REVISE, ECCo, Generic, Omniscient
from cftrain.generators.base import Generator
from cftrain.modes import evaluating
from cftrain.sampling import draw_by_class
from cftrain.search import search
from cftrain.vae import fit_vae

LAMBDA_ENERGIES = (0.1, 0.5, 1.0, 5.0, 10.0)  # method §5.2: one evaluation per value


EVAL_GENERATORS = ("ECCo", "Generic", "REVISE", "Omniscient")


@dataclass(frozen=True)
class EvalSetting:
    """One evaluation generator configuration (method §5.2; defaults = the reference's).

    ``generator`` is one of ``EVAL_GENERATORS``: the paper evaluates with ECCo only; the
    seed draft's initial grid (method §2.7) also evaluates each cell with its own training
    generator. λ_energy only enters ECCo, λ_cost ECCo, Generic and REVISE.

    ``categorical``: how the search treats the data's one-hot groups (method §4.8) — one of
    :data:`cftrain.categorical.MODES` (decoded at every step; default ``straight_through``, as
    the reference's evaluation of Adult and Credit) or ``"off"`` (every column continuous, as
    the training sweeps). Data without groups are unaffected.

    ``domain_bound``: whether the search clamps counterfactuals to the data's domain (method
    §4.5; default on). It is left out of the setting's ``repr``, which keys the random streams,
    so a setting draws the same label pairs and factuals with the bound on or off.
    """

    lambda_energy: float
    lambda_cost: float = 0.0
    tau: float = sizes.TAU_PLAUSIBILITY
    max_iter: int = 50
    step_size: float = 0.1
    generator: str = "ECCo"
    categorical: str = "straight_through"
    domain_bound: bool = field(default=True, repr=False)

    def __post_init__(self) -> None:
        validation.check_fields("EvalSetting", asdict(self), validation.SEARCH)
        validation.choice("EvalSetting", "generator", self.generator, EVAL_GENERATORS)
        Categorical.of((), self.categorical)  # validates the mode name

    def build(self, pool: torch.Tensor | None = None) -> Generator:
        """The generator; REVISE (its VAE fitted with seed 0, method §2.4) and Omniscient
        (method §2.6) need the training features ``pool: (M, D)``."""
        if self.generator == "ECCo":
            return ECCo(lambda_cost=self.lambda_cost, lambda_energy=self.lambda_energy)
        if self.generator == "Generic":
            return Generic(lambda_cost=self.lambda_cost)
        if pool is None:
            raise ValueError(f"the {self.generator} evaluation generator needs the training pool")
        if self.generator == "Omniscient":
            return Omniscient(pool=pool)
        return REVISE(vae=fit_vae(pool, seed=0)[0], lambda_cost=self.lambda_cost)


def eval_settings(
    tau: float = sizes.TAU_PLAUSIBILITY,
    lambdas: Sequence[float] = LAMBDA_ENERGIES,
    categorical: str = "straight_through",
) -> list[EvalSetting]:
    """The five ECCo evaluation settings of method §5.2 at decision threshold ``tau``."""
    validation.non_empty("eval_settings", "lambdas", lambdas, (float, int))
    return [
        EvalSetting(lambda_energy=float(lam), tau=tau, categorical=categorical) for lam in lambdas
    ]


def draw_label_pairs(
    n_individuals: int, n_classes: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Factual labels ``f ~ U(classes)`` and targets ``t ~ U(classes ∖ {f})`` → two (n,) tensors."""
    factual = torch.randint(n_classes, (n_individuals,), generator=generator)
    shift = torch.randint(1, n_classes, (n_individuals,), generator=generator)
    return factual, (factual + shift) % n_classes


def draw_factuals(
    predicted: torch.Tensor, factual_labels: torch.Tensor, n_runs: int, generator: torch.Generator
) -> torch.Tensor:
    """Test-set indices ``(n_runs, n)``: per run and individual i, a uniform draw (with
    replacement across i) among points whose *prediction* is ``factual_labels[i]``; −1 where the
    model predicts no point as that class."""
    wanted = factual_labels.repeat(n_runs)
    return draw_by_class(predicted.cpu(), wanted, generator).reshape(n_runs, -1)


@evaluating
def benchmark(
    models: Mapping[str, nn.Module],
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    settings: Sequence[EvalSetting],
    *,
    n_classes: int,
    constraints: Constraints | None = None,
    n_individuals: int | None = None,
    n_runs: int | None = None,
    seed: int = 0,
    dataset: str = "",
    experiment: str = "",
    categorical_groups: Sequence[Sequence[int]] = (),
    length_scale: float = DEFAULT_LENGTH_SCALE,
    n_div: int = DEFAULT_SUBSAMPLE,
    n_ip: int = DEFAULT_IP_SAMPLES,
    pool: torch.Tensor | None = None,
) -> pd.DataFrame:
    """Run the method §5.2 benchmark of ``models`` (name → model) on ``x_test: (M, D)``.

    ``n_individuals`` and ``n_runs`` default to the paper's values for ``dataset`` and
    ``experiment`` (:mod:`cftrain.sizes`). ``categorical_groups``: the one-hot column
    groups of the data; each setting's ``categorical`` mode says whether the search decodes them
    (method §4.8), and column ``onehot_valid`` says whether each counterfactual's groups are valid.

    Returns the tidy table (one row per counterfactual); ``mmd`` is the raw estimate of the
    row's (run, target) group, on valid rows only, and may be negative (the aggregation clamps
    it, deviations §9 item 15). ``attrs`` records, per model, what could not be measured:
    ``missing_factuals`` ((run, individual) slots whose factual class the model predicts for no
    test point; their rows are absent), ``mmd_groups`` and ``mmd_groups_skipped`` (run × target
    groups, and those with < 2 valid counterfactuals, deviations §11.2), and ``n_nonfinite`` search
    step entries set to 0 (deviations §11.6).
    ``pool``: training features for the REVISE and Omniscient evaluation generators.
    Same inputs and ``seed`` give the same table. Models run in eval mode; ``x_test`` is
    converted to their device and dtype.
    """
    if n_individuals is None or n_runs is None:
        if dataset not in sizes.SYNTHETIC + sizes.TABULAR + sizes.IMAGE:
            raise ValueError(
                f"dataset={dataset!r} is not one of the paper's, so it has no default evaluation "
                "size: pass n_individuals= and n_runs="
            )
        if n_individuals is None:
            n_individuals = sizes.n_individuals(dataset)
        if n_runs is None:
            n_runs = sizes.n_runs(dataset, experiment)
    x_test, y_test = _benchmark_inputs(
        models, x_test, y_test, settings, n_classes, n_individuals=n_individuals, n_runs=n_runs
    )
    frames = []
    attrs: dict[str, dict[str, int]] = {
        k: {name: 0 for name in models}
        for k in ("missing_factuals", "mmd_groups", "mmd_groups_skipped", "n_nonfinite")
    }
    for setting in settings:
        factual_labels, target_labels = draw_label_pairs(
            n_individuals, n_classes, _generator(seed, "pairs", setting)
        )
        generator = setting.build(pool)
        for name, model in models.items():
            frame, counts = _evaluate_model(
                model,
                x_test,
                y_test,
                setting,
                generator,
                factual_labels,
                target_labels,
                n_classes=n_classes,
                constraints=constraints,
                n_runs=n_runs,
                seed=seed,
                name=name,
                length_scale=length_scale,
                n_div=n_div,
                n_ip=n_ip,
                groups=categorical_groups,
            )
            frames.append(frame.assign(model=name, **asdict(setting)))
            for k, v in counts.items():
                attrs[k][name] += v
    table = pd.concat(frames, ignore_index=True).assign(dataset=dataset, experiment=experiment)
    table = table[_COLUMNS]
    table.attrs = {**attrs, "seed": seed}
    return table


def benchmark_dataset(
    data: Dataset,
    models: Mapping[str, nn.Module],
    settings: Sequence[EvalSetting],
    *,
    experiment: str,
    protect: bool = False,
    device: torch.device | str = "cpu",
    **kwargs,
) -> pd.DataFrame:
    """:func:`benchmark` on ``data``'s test set (moved to ``device``, where the models are) with
    its domain, its one-hot groups (decoded as each setting's ``categorical`` says, method §4.8)
    and, with ``protect``, its protected features immutable as in the mutability runs
    (method §5.2). Sizes default to the paper's per dataset (:mod:`cftrain.sizes`)."""
    if not isinstance(data, Dataset):
        raise TypeError(f"benchmark_dataset: data is a {type(data).__name__}; expected a Dataset")
    x_test, y_test = data.tensors("test", device)
    return benchmark(
        models,
        x_test,
        y_test,
        settings,
        n_classes=data.n_classes,
        constraints=data.constraints(protect),
        dataset=data.name,
        experiment=experiment,
        categorical_groups=data.categorical,
        pool=torch.from_numpy(data.x_train).to(device),
        **kwargs,
    )


def write_parquet(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the table atomically (``table.attrs`` survive the round trip)."""
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)
    return Path(path)


_COLUMNS = [
    "dataset",
    "experiment",
    "model",
    "generator",
    "lambda_cost",
    "lambda_energy",
    "tau",
    "max_iter",
    "step_size",
    "categorical",
    "run",
    "individual",
    "factual_index",
    "factual_label",
    "target_label",
    "validity",
    "onehot_valid",
    "converged",
    "iterations",
    "cost",
    "redundancy",
    "ip",
    "mmd",
    "immutable_moved",
    "direction_violated",
    "domain_left",
]


def _generator(seed: int, *parts: object) -> torch.Generator:
    """A generator keyed by ``seed`` and labels, so a stream does not depend on which other
    settings or models are evaluated in the same call."""
    words = [seed, *(zlib.crc32(repr(p).encode()) for p in parts)]
    state = np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def _evaluate_model(
    model: nn.Module,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    setting: EvalSetting,
    generator: Generator,
    factual_labels: torch.Tensor,
    target_labels: torch.Tensor,
    *,
    n_classes: int,
    constraints: Constraints | None,
    n_runs: int,
    seed: int,
    name: str,
    length_scale: float,
    n_div: int,
    n_ip: int,
    groups: Sequence[Sequence[int]],
) -> tuple[pd.DataFrame, dict[str, int]]:
    """All runs of one (setting, model) in one search call, then the per-row metrics."""
    device = x_test.device
    idx = draw_factuals(
        predict(model, x_test), factual_labels, n_runs, _generator(seed, "factuals", setting, name)
    )
    run, individual = torch.meshgrid(
        torch.arange(n_runs), torch.arange(factual_labels.numel()), indexing="ij"
    )
    present = (idx >= 0).flatten()
    run, individual, idx = (
        run.flatten()[present],
        individual.flatten()[present],
        idx.flatten()[present],
    )
    x = x_test[idx.to(device)]
    target = target_labels[individual].to(device)

    result = search(
        model,
        x,
        target,
        generator,
        constraints,
        tau=setting.tau,
        max_iter=setting.max_iter,
        step_size=setting.step_size,
        rng=_generator(seed, "search", setting, name),
        categorical=Categorical.of(groups, setting.categorical),
        domain_bound=setting.domain_bound,
    )
    x_cf = result.counterfactuals.detach()
    valid = validity(model, x_cf, target)
    ip = implausibility(x_cf, target, x_test, y_test, _generator(seed, "ip", setting, name), n_ip)

    # IP*: one group per (run, target) of this (setting, model), valid rows only (deviations §11.2)
    group = run.to(device) * n_classes + target
    has_rows = torch.bincount(group, minlength=n_runs * n_classes) > 0
    n_valid = torch.bincount(group[valid], minlength=n_runs * n_classes)
    group_mmd = mmd2_by_group(
        x_cf[valid],
        group[valid],
        torch.arange(n_runs * n_classes, device=device) % n_classes,
        x_test,
        y_test,
        _generator(seed, "mmd", setting, name),
        length_scale,
        n_div,
    )
    mmd = torch.where(valid, group_mmd[group], torch.full_like(ip, float("nan")))

    flags = constraint_violations(x, x_cf, constraints)
    frame = pd.DataFrame(
        {
            "run": run.numpy(),
            "individual": individual.numpy(),
            "factual_index": idx.numpy(),
            "factual_label": factual_labels[individual].numpy(),
            "target_label": target.cpu().numpy(),
            "validity": valid.cpu().numpy(),
            "onehot_valid": onehot_validity(x_cf, groups).cpu().numpy(),
            "converged": result.converged.cpu().numpy(),
            "iterations": result.iterations.cpu().numpy(),
            "cost": cost(x, x_cf).cpu().numpy(),
            "redundancy": redundancy(x, x_cf).cpu().numpy(),
            "ip": ip.cpu().numpy(),
            "mmd": mmd.cpu().numpy(),
            **{k: v.cpu().numpy() for k, v in flags.items()},
        }
    )
    counts = {
        "missing_factuals": int((~present).sum()),
        "mmd_groups": int(has_rows.sum()),
        "mmd_groups_skipped": int((has_rows & (n_valid < 2)).sum()),
        "n_nonfinite": int(result.n_nonfinite),
    }
    return frame, counts


def _benchmark_inputs(
    models: Any,
    x_test: Any,
    y_test: Any,
    settings: Any,
    n_classes: Any,
    **counts: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated benchmark inputs (method §5.2): test data on the models' device and dtype."""
    owner = "benchmark"
    models = validation.models_mapping(owner, models)
    validation.non_empty(owner, "settings", settings, EvalSetting)
    validation.check_fields(owner, counts, dict.fromkeys(counts, validation.Count))
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"{owner}: n_classes={n_classes!r} is not allowed; expected an int ≥ 2")
    kinds = {
        name: validation.model_device_dtype(m, f"{owner}: models[{name!r}]")
        for name, m in models.items()
    }
    if len(set(kinds.values())) > 1:
        raise ValueError(f"{owner}: the models differ in device or dtype: {kinds}; expected one")
    device, dtype = next(iter(kinds.values()))
    x = validation.features(owner, "x_test", x_test, device, dtype)
    for name, model in models.items():
        outputs = validation.n_outputs(f"{owner}: models[{name!r}]", model, x)
        if outputs != n_classes:
            raise ValueError(
                f"{owner}: models[{name!r}] has {outputs} outputs but the data has "
                f"{n_classes} classes; expected one logit per class"
            )
    return x, validation.labels(owner, "y_test", y_test, x.shape[0], n_classes, device)
