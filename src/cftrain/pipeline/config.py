"""Experiments as data: schema validation with defaults, grid expansion, the job plan.

An experiment (``config/experiments/<name>.yaml``, schema
``workflow/schemas/experiment.schema.yaml``) names datasets, a model, a training grid, an
evaluation grid and seeds. :func:`expand_grid` turns the training grid into cells with
stable readable ids; :func:`plan` lists every training, evaluation and performance job of
an experiment, which the Snakefile turns into rules' targets and the tests count.

The workflow resolves each experiment once, when it builds the DAG, and writes it to a spec
file (:func:`write_spec`); a job reads that file (:func:`read_spec`) and asks it for its own
part (:meth:`Experiment.training`, :meth:`Experiment.evaluation`,
:meth:`Experiment.performance`). Plain Python: planning the DAG imports no torch; the job
turns its part into library objects (:mod:`cftrain.pipeline.jobs`).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from cftrain import sizes
from cftrain.atomic import atomic_path
from cftrain.batch_fields import BATCH_FIELDS

#: training parameters that do not change a vanilla (BL) run: its cells are not duplicated
#: per value (issue 14, method §2.7 "vanilla cells not duplicated per generator setting")
VANILLA_IRRELEVANT = frozenset(
    {
        "generator",
        "lambda_cost",
        "lambda_energy",
        "max_iter",
        "tau",
        "step_size",
        "ae_epsilon",
        "lambda_div",
        "lambda_reg",
        "lambda_adv",
        "nce",
        "burnin",
        "domain_bound",
    }
)
#: short, readable names of grid keys in cell ids; values alone for objective and generator
ID_PREFIX = {
    "objective": "",
    "generator": "",
    "lambda_cost": "cost",
    "lambda_energy": "egy",
    "max_iter": "T",
    "tau": "tau",
    "step_size": "step",
    "lambda_reg": "reg",
    "lambda_div": "div",
    "lambda_adv": "adv",
    "lambda_clf": "clf",
    "nce": "nce",
    "nepochs": "epochs",
    "burnin": "burnin",
    "batch_size": "batch",
    "lr": "lr",
    "ae_epsilon": "ae",
    "domain_bound": "bound",
}
#: training-time generator name → evaluation generator name (``EvalSetting.generator``)
EVAL_GENERATOR = {
    "ecco": "ECCo",
    "generic": "Generic",
    "revise": "REVISE",
    "omniscient": "Omniscient",
}
DATASET_NAMES = sizes.SYNTHETIC + sizes.TABULAR + sizes.IMAGE
#: the objective that searches no counterfactuals (``cftrain.objectives.needs_counterfactuals``)
BASELINE_OBJECTIVE = "vanilla"
#: table name → the stage outputs it is aggregated from (evaluations, performance or ig)
TABLE_INPUTS = {
    "main": "evaluations",
    "costs_unconstrained": "evaluations",
    "absolute": "evaluations",
    "validity": "evaluations",
    "ablation": "evaluations",
    "initial_grid": "evaluations",
    "grid": "evaluations",
    "robustness": "performance",
    "accuracy": "performance",
    "ig": "ig",
}
#: options of ``cftrain aggregate`` and their defaults (an experiment's ``table_options``,
#: whose schema defaults are the same, plus what the workflow adds: its datasets' order and
#: its grid's keys)
TABLE_OPTIONS = {
    "treatment": "full",
    "baseline": "vanilla",
    "metrics": ["ip", "mmd"],
    "datasets": None,
    "grid_keys": [],
}
OWN_GENERATOR = "own"  # evaluation protocol generator: each cell group's training generator


#: the workflow's JSON schemas (the repository's workflow/schemas; cftrain is installed from
#: the checkout, ``pip install -e``), for spec files read by a job
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "workflow" / "schemas"


class ConfigError(ValueError):
    """An invalid workflow or experiment configuration; the message names file and key."""


def load_yaml(path: str | Path) -> Any:
    """A YAML file's content; a syntax error names the file, line and column."""
    with open(path) as f:
        try:
            return yaml.safe_load(f)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = getattr(err, "problem", None) or str(err)
            raise ConfigError(f"{path}{at}: not valid YAML: {what}") from None


def yaml_file(path: str | Path) -> str:
    """``path`` once it parses as YAML: the Snakefile's ``configfile:`` would only say
    "not valid JSON or YAML", without the file or the line."""
    load_yaml(path)
    return str(path)


def validate(instance: Any, schema: Mapping, where: str) -> Any:
    """Validate ``instance`` against a JSON schema, filling in the schema's defaults.

    Defaults are deep copies (a default object is never shared between instances). The
    error names ``where`` (a file), the key path, the bad value and the allowed values.
    """
    base = jsonschema.Draft202012Validator

    def set_defaults(validator, properties, inst, sch):
        if isinstance(inst, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in inst:
                    inst[name] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, properties, inst, sch)

    filling = jsonschema.validators.extend(base, {"properties": set_defaults})
    instance = copy.deepcopy(instance) if instance is not None else {}
    error = jsonschema.exceptions.best_match(filling(schema).iter_errors(instance))
    if error is not None:
        key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
        allowed = error.schema.get("enum") if isinstance(error.schema, dict) else None
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
        hint = f"; allowed values: {allowed}" if allowed else ""
        if error.validator == "minProperties" and "description" in error.schema:
            hint = f" ({error.schema['description']})"
        raise ConfigError(f"{where}: key {key!r}: {error.message}{hint}")
    return instance


def deep_merge(base: Mapping, overlay: Mapping) -> dict:
    """``base`` with ``overlay`` merged in; nested mappings merge, everything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def format_value(value: Any) -> str:
    """A grid value as it appears in ids: ``0.001``, ``5``, ``ecco``, ``on``/``off``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


@dataclass(frozen=True)
class Cell:
    """One training-grid combination: its id and the grid values that define it."""

    id: str
    params: dict[str, Any] = field(hash=False)

    def matches(self, group: Mapping[str, Any]) -> bool:
        """In cell group ``group`` (key → value): equal on every key the cell has."""
        return all(self.params.get(k, v) == v for k, v in group.items())


def cell_id(params: Mapping[str, Any]) -> str:
    """``full_ecco_cost0.001_egy5_T20``: keys in grid order, short prefixes (``ID_PREFIX``)."""
    if not params:
        return "default"
    return "_".join(f"{ID_PREFIX.get(k, k)}{format_value(v)}" for k, v in params.items())


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[Cell]:
    """One cell per combination of the grid's values, in grid order, ids stable and unique.

    A vanilla cell drops the keys it ignores (``VANILLA_IRRELEVANT``), so it appears once
    per combination of the keys that matter to it.
    """
    keys = list(grid)
    cells: dict[str, Cell] = {}
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        if params.get("objective", "full") == BASELINE_OBJECTIVE:
            params = {k: v for k, v in params.items() if k not in VANILLA_IRRELEVANT}
        cell = Cell(cell_id(params), params)
        cells.setdefault(cell.id, cell)
    return list(cells.values())


def cell_groups(cells: Sequence[Cell], group_by: Sequence[str]) -> dict[str, list[Cell]]:
    """Cell groups evaluated together: cells sharing the values of ``group_by``.

    A cell without a ``group_by`` key (a vanilla baseline) joins every group. Without
    ``group_by`` there is one group, ``all``.
    """
    if not group_by:
        return {"all": list(cells)}
    keys: dict[str, dict[str, Any]] = {}
    for cell in cells:
        if all(k in cell.params for k in group_by):
            group = {k: cell.params[k] for k in group_by}
            keys.setdefault("_".join(format_value(v) for v in group.values()), group)
    return {gid: [c for c in cells if c.matches(group)] for gid, group in keys.items()}


@dataclass(frozen=True)
class Experiment:
    """A validated experiment (schema defaults filled in) under its name."""

    name: str
    spec: dict = field(hash=False)

    @property
    def datasets(self) -> list[str]:
        return list(self.spec["datasets"])

    @property
    def seeds(self) -> list[int]:
        return list(self.spec["seeds"])

    @cached_property
    def cells(self) -> list[Cell]:
        return expand_grid(self.spec["train"]["grid"])

    @cached_property
    def groups(self) -> dict[str, list[Cell]]:
        return cell_groups(self.cells, self.spec["evaluation"]["group_by"])

    @property
    def protocols(self) -> list[str]:
        return list(self.spec["evaluation"]["protocols"])

    @property
    def tables(self) -> list[str]:
        return list(self.spec["tables"])

    @property
    def data(self) -> dict[str, Any]:
        """Data options of every job's ``data.load``, named only where not the default, so
        the specs (and digests) of experiments on the default data stay as they were."""
        rows = self.spec["tabular_rows"]
        return {} if rows == "reference" else {"data": {"tabular_rows": rows}}

    def cell(self, cell: str) -> Cell:
        found = {c.id: c for c in self.cells}.get(cell)
        if found is None:
            raise ConfigError(
                f"experiment {self.name}: no cell {cell!r}; allowed values: "
                f"{[c.id for c in self.cells]}"
            )
        return found

    def check_coordinates(self, dataset: str, **names: str) -> None:
        """A job's ``dataset`` (and ``group``, ``protocol``, where given) are the
        experiment's; an unknown one is named with the allowed values."""
        allowed = {"dataset": self.datasets, "group": list(self.groups), "protocol": self.protocols}
        for kind, value in {"dataset": dataset, **names}.items():
            if value not in allowed[kind]:
                raise ConfigError(
                    f"experiment {self.name}: no {kind} {value!r}; allowed values: {allowed[kind]}"
                )

    def training(self, dataset: str, cell: str, seed: int) -> dict[str, Any]:
        """Everything ``cftrain train`` needs for one job: the model, and the recipe of its
        training config (``base`` values, then the experiment's fixed values, then the cell's
        grid values; :func:`cftrain.experiment.cell_config` builds it in the job)."""
        self.check_coordinates(dataset)
        spec = self.spec
        params = dict(self.cell(cell).params)
        fixed = {**spec["train"]["fixed"], **spec["train"]["per_dataset"].get(dataset, {})}
        overrides = {**fixed, **params}
        objective = overrides.pop("objective", "full")
        return {
            "experiment": self.name,
            "dataset": dataset,
            "cell": cell,
            "seed": seed,
            "model": spec["model"]["name"],
            "model_options": spec["model"]["options"],
            "base": spec["train"]["base"],
            "objective": objective,
            "mutability": bool(spec["mutability"]),
            "final_options": {k: v for k, v in spec["final_options"].items() if v is not None},
            "overrides": overrides,
            **self.data,
        }

    def performance(self, dataset: str) -> dict[str, Any]:
        """Everything ``cftrain performance`` and ``cftrain ig`` need for one dataset."""
        self.check_coordinates(dataset)
        perf = self.spec["performance"]
        return {
            "experiment": self.name,
            "dataset": dataset,
            **perf,
            "rounds": perf["ig_rounds"],
            "sample_size": perf["ig_sample_size"],
            "steps": perf["ig_steps"],
            **self.data,
        }

    def evaluation(self, dataset: str, group: str, protocol: str) -> dict[str, Any]:
        """Everything ``cftrain evaluate`` needs: settings, sizes, which cells, mutability."""
        self.check_coordinates(dataset, group=group, protocol=protocol)
        spec = self.spec["evaluation"]
        proto = spec["protocols"][protocol]
        cells = self.groups[group]
        generator = proto["generator"]
        if generator == OWN_GENERATOR:
            own = {c.params["generator"] for c in cells if "generator" in c.params}
            if len(own) != 1:
                raise ConfigError(
                    f"experiment {self.name}: protocol {protocol!r} evaluates with each group's "
                    f"own generator; group {group!r} has generators {sorted(own)} "
                    "(set evaluation.group_by: [generator])"
                )
            generator = EVAL_GENERATOR[own.pop()]
        protect = bool(self.spec["mutability"])
        tau = sizes.eval_tau(protect) if proto["tau"] is None else proto["tau"]
        settings = [
            {
                "generator": generator,
                "lambda_energy": float(lam),
                "lambda_cost": float(proto["lambda_cost"]),
                "tau": float(tau),
                "max_iter": int(proto["max_iter"]),
                "step_size": float(proto["step_size"]),
                "categorical": proto["categorical"],
            }
            for lam in proto["lambda_energy"]
        ]
        if proto.get("domain_bound") is False:  # named only when off: digests stay as they were
            settings = [{**s, "domain_bound": False} for s in settings]
        if generator != "ECCo":  # λ_energy enters ECCo only: one setting, not copies
            settings = settings[:1]
        n_ind = spec["n_individuals"]
        n_runs = spec["n_runs"]
        return {
            "experiment": self.name,
            "dataset": dataset,
            "group": group,
            "protocol": protocol,
            "settings": settings,
            "protect": protect,
            "split": spec["split"],
            "n_individuals": sizes.n_individuals(dataset) if n_ind is None else n_ind,
            "n_runs": sizes.n_runs(dataset, self.name) if n_runs is None else n_runs,
            "seed": spec["seed"],
            "cells": [c.id for c in cells],
            **self.data,
        }


def digest(obj: Any) -> str:
    """A short, stable digest of a job's part of the spec: a rule's rerun trigger."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def write_spec(experiment: Experiment, path: str | Path) -> Path:
    """The resolved experiment as the spec file its jobs read; a file that already holds it is
    left alone, so its modification time says when the experiment last changed."""
    text = json.dumps({"name": experiment.name, "spec": experiment.spec}, indent=2)
    path = Path(path)
    if path.is_file() and path.read_text() == text:
        return path
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def read_spec(path: str | Path) -> Experiment:
    """The experiment of a spec file written by :func:`write_spec`, validated again (schema
    and :func:`check_experiment`), so a hand-edited file fails naming its key, not with a
    ``KeyError`` in the job."""
    try:
        stored = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        stored = err
    fields = stored if isinstance(stored, dict) else {}
    name, spec = fields.get("name"), fields.get("spec")
    if not isinstance(name, str) or not isinstance(spec, dict):
        found = stored if isinstance(stored, Exception) else f"a JSON {type(stored).__name__}"
        if fields:
            found = f"name {name!r:.40}, spec of type {type(spec).__name__}"
        raise ConfigError(
            f"{path}: not an experiment spec file ({found}); expected a JSON object "
            '{"name": "<experiment>", "spec": {...}}, as results/specs/<experiment>.json'
        )
    return checked_experiment(name, spec, str(path))


def checked_experiment(name: str, spec: Mapping[str, Any], where: str) -> Experiment:
    """Experiment ``name`` from a spec given to a job (not from the workflow's files):
    validated by the schema, defaults filled, and :func:`check_experiment`."""
    schema = load_yaml(SCHEMA_DIR / "experiment.schema.yaml")
    experiment = Experiment(name, validate(spec, schema, where))
    check_experiment(experiment, where)
    return experiment


def load_experiment(name: str, config_dir: Path, schema: Mapping, overlay: Mapping) -> Experiment:
    """``config_dir/experiments/<name>.yaml`` with ``overlay`` merged in, validated."""
    path = Path(config_dir) / "experiments" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (Path(config_dir) / "experiments").glob("*.yaml"))
        raise ConfigError(
            f"key 'experiments': unknown experiment {name!r}; allowed values: {known}"
        )
    raw = deep_merge(load_yaml(path) or {}, overlay)
    experiment = Experiment(name, validate(raw, schema, str(path)))
    check_experiment(experiment, str(path))
    return experiment


#: tables that compare cells of each cell group → the table_options naming those cells
COMPARED_CELLS = {
    "main": ("treatment", "baseline"),
    "costs_unconstrained": ("treatment", "baseline"),
    "absolute": ("treatment", "baseline"),
    "ablation": ("baseline",),
}
#: tables → the ``performance`` switch that produces their input
MEASURED = {"robustness": "robustness", "ig": "ig"}
#: ``TrainingConfig``'s defaults of the values checked at DAG time (the training stack's
#: own copy; a test keeps them equal), so checking imports no torch
TRAINING_DEFAULTS = {"nepochs": 100, "burnin": 0.0}


def check_experiment(experiment: Experiment, where: str) -> None:
    """Refuse, when the DAG is built, what the schema cannot see and the jobs would find
    only after training, or not at all: cell groups, the cells the tables compare, the
    inputs the tables need, and training values that leave CT without counterfactuals.
    Messages name ``where`` (the file), the key, the value and what is allowed."""
    _check_group_by(experiment, where)
    _check_tables(experiment, where)
    _check_training(experiment, where)


def _check_group_by(experiment: Experiment, where: str) -> None:
    grid = list(experiment.spec["train"]["grid"])
    for key in experiment.spec["evaluation"]["group_by"]:
        if key not in grid:
            raise ConfigError(
                f"{where}: key 'evaluation.group_by': {key!r} is not a key of train.grid, so "
                f"it forms no cell groups; allowed values: {grid}"
            )


def _check_tables(experiment: Experiment, where: str) -> None:
    spec = experiment.spec
    for table in experiment.tables:
        switch = MEASURED.get(table)
        if switch and not spec["performance"][switch]:
            raise ConfigError(
                f"{where}: key 'tables': table {table!r} needs performance.{switch}: true "
                f"(now false), or remove {table!r} from tables"
            )
    comparing = [t for t in experiment.tables if t in COMPARED_CELLS]
    roles = [r for r in ("treatment", "baseline") if any(r in COMPARED_CELLS[t] for t in comparing)]
    options = spec["table_options"]
    if "treatment" in roles and options["treatment"] == options["baseline"]:
        raise ConfigError(
            f"{where}: key 'table_options.treatment': {options['treatment']!r} equals "
            f"table_options.baseline; tables {comparing} compare two different cells "
            "(e.g. treatment: full, baseline: vanilla)"
        )
    for role in roles:
        for group, cells in experiment.groups.items():
            ids = [c.id for c in cells]
            if options[role] not in ids:
                raise ConfigError(
                    f"{where}: key 'table_options.{role}': {options[role]!r} is not a cell of "
                    f"cell group {group!r}, which tables {comparing} need; allowed values: {ids}"
                    + _baseline_hint(experiment, role)
                )


def _baseline_hint(experiment: Experiment, role: str) -> str:
    if role != "baseline" or any(
        c.params.get("objective") == BASELINE_OBJECTIVE for c in experiment.cells
    ):
        return ""
    return f" (the grid has no {BASELINE_OBJECTIVE} cell: add it to train.grid.objective)"


def _check_training(experiment: Experiment, where: str) -> None:
    """Every CT cell searches counterfactuals in some epoch, and no more per epoch than the
    dataset has training points (:data:`cftrain.sizes.TRAINING_POINTS`)."""
    for dataset in experiment.datasets:
        for cell in experiment.cells:
            job = experiment.training(dataset, cell.id, experiment.seeds[0])
            if job["objective"] == BASELINE_OBJECTIVE:
                continue
            values = {**TRAINING_DEFAULTS, **job["overrides"]}
            nepochs, burnin = values["nepochs"], values["burnin"]
            at = f"cell {cell.id!r} on {dataset}"
            if round(burnin * nepochs) >= nepochs:
                key = _source(experiment, dataset, cell, "burnin")
                raise ConfigError(
                    f"{where}: key {key!r}: {at}: burnin={burnin:g} with nepochs={nepochs} "
                    f"leaves no epoch after burn-in (round({burnin:g} · {nepochs}) = "
                    f"{round(burnin * nepochs)}), so {job['objective']} would train as the "
                    "baseline; allowed: burnin · nepochs rounding below nepochs"
                )
            points = sizes.TRAINING_POINTS[dataset]
            if values.get("nce", 0) > points:
                key = _source(experiment, dataset, cell, "nce")
                raise ConfigError(
                    f"{where}: key {key!r}: {at}: nce={values['nce']} exceeds the {points} "
                    f"training points of {dataset} (counterfactuals are drawn without "
                    f"replacement); allowed values: 1..{points}"
                )


def _source(experiment: Experiment, dataset: str, cell: Cell, key: str) -> str | None:
    """Where a cell's training value ``key`` is set: grid, per_dataset or fixed."""
    train = experiment.spec["train"]
    if key in cell.params:
        return f"train.grid.{key}"
    if key in train["per_dataset"].get(dataset, {}):
        return f"train.per_dataset.{dataset}.{key}"
    return f"train.fixed.{key}" if key in train["fixed"] else None


@dataclass(frozen=True)
class Job:
    """One job of the plan: the rule that runs it and its wildcards."""

    rule: str
    wildcards: dict[str, str] = field(hash=False)


#: one training job: (experiment, dataset, cell id, seed)
TrainingJob = tuple[str, str, str, int]


def _model_identity(job: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two training jobs train the same model: everything but the experiment's
    name, less the settings a baseline ignores (as :func:`expand_grid` drops them)."""
    identity = {k: v for k, v in sorted(job.items()) if k != "experiment"}
    if job["objective"] == BASELINE_OBJECTIVE:
        identity["overrides"] = {
            k: v for k, v in sorted(job["overrides"].items()) if k not in VANILLA_IRRELEVANT
        }
    return identity


def model_digest(job: Mapping[str, Any]) -> str:
    """The digest of the model a training job (:meth:`Experiment.training`) trains: equal for
    two jobs that train the identical model (:func:`model_owners`), whatever their experiment.
    ``params.json`` records it beside ``model.pt``, and a reader checks it
    (:mod:`cftrain.pipeline.artifacts`)."""
    return digest(_model_identity(job))


def model_owners(experiments: Iterable[Experiment]) -> dict[TrainingJob, TrainingJob]:
    """Every training job → the first configured job that trains the identical model.

    Two cells train the same model when everything ``cftrain train`` receives but the
    experiment's name is equal (e.g. the ablation's ``full`` and ``vanilla`` are ``single``'s,
    seed for seed): the model is trained once, under its first owner, and the other reads it
    from there. The cell id is part of the identity, so a shared model keeps its label.
    """
    first: dict[str, TrainingJob] = {}
    owners: dict[TrainingJob, TrainingJob] = {}
    for exp in experiments:
        for ds in exp.datasets:
            for cell in exp.cells:
                for seed in exp.seeds:
                    key = json.dumps(_model_identity(exp.training(ds, cell.id, seed)))
                    job = (exp.name, ds, cell.id, seed)
                    owners[job] = first.setdefault(key, job)
    return owners


#: one evaluation job: (experiment, dataset, group, protocol, seed)
EvaluationJob = tuple[str, str, str, str, int]

#: evaluation-spec keys that only label the job's table, so two jobs differing in them alone
#: evaluate a shared model identically
_EVALUATION_LABELS = ("experiment", "group", "protocol", "cells")


def evaluation_owners(
    experiments: Iterable[Experiment],
) -> dict[tuple[EvaluationJob, str], EvaluationJob]:
    """(evaluation job, cell) → the first configured evaluation job that evaluates the cell's
    model identically.

    Identical means the same model (:func:`model_owners`) under the same settings, sizes,
    mutability and seeds: the evaluation streams are keyed by model and setting, not by the
    other models of the job (:func:`cftrain.evaluation.protocol.benchmark`), so such a cell's
    rows can be copied instead of searched again (e.g. the ablation's ``full`` and ``vanilla``
    from ``single``'s evaluation, except on MNIST, whose ablation draws fewer runs).
    """
    experiments = list(experiments)
    models = model_owners(experiments)
    first: dict[str, EvaluationJob] = {}
    owners: dict[tuple[EvaluationJob, str], EvaluationJob] = {}
    for exp in experiments:
        for ds in exp.datasets:
            for seed in exp.seeds:
                for group, cells in exp.groups.items():
                    for protocol in exp.protocols:
                        spec = exp.evaluation(ds, group, protocol)
                        how = {k: v for k, v in spec.items() if k not in _EVALUATION_LABELS}
                        job = (exp.name, ds, group, protocol, seed)
                        for cell in cells:
                            model = models[(exp.name, ds, cell.id, seed)]
                            key = json.dumps([model, how], sort_keys=True)
                            owners[(job, cell.id)] = first.setdefault(key, job)
    return owners


#: cells per training job (config key ``train_batch_size``): issue 25's prototype measured
#: 10.7× for 96 stacked moons cells; 32 keeps several jobs per experiment for parallel cores
TRAIN_BATCH_SIZE = 32
#: datasets whose cells train in batches; on the others (mini-batches of 1000, compute-bound
#: steps) stacking loses on the CPU (:mod:`cftrain.batch_plan`), so each cell is one job
BATCHED_DATASETS = sizes.SYNTHETIC


@dataclass(frozen=True)
class TrainingBatch:
    """One training job: cells (experiment, dataset, cell id, seed) trained together by
    :func:`cftrain.pipeline.jobs.train_batch_job`; ``id`` (``b000``, …) numbers the
    batches of one experiment and dataset in plan order, stable given the config."""

    experiment: str
    dataset: str
    id: str
    cells: tuple[TrainingJob, ...]

    @property
    def rule(self) -> str:
        return f"train_{self.experiment}_{self.dataset}_{self.id}"


def _batch_key(job: Mapping[str, Any]) -> str:
    """What the cells of one batch share, as plain data: the job's recipe less its cell,
    seed and the overrides outside :data:`BATCH_FIELDS` (each cell's own)."""
    key = {k: v for k, v in job.items() if k not in ("cell", "seed", "overrides")}
    key["overrides"] = {k: v for k, v in job["overrides"].items() if k in BATCH_FIELDS}
    return json.dumps(key, sort_keys=True)


def training_batches(
    experiments: Iterable[Experiment], size: int = TRAIN_BATCH_SIZE
) -> list[TrainingBatch]:
    """The training jobs of ``experiments``: each experiment's own models (after
    :func:`model_owners`), per dataset grouped by :func:`_batch_key` in grid order and
    chunked to ``size`` cells (1 outside :data:`BATCHED_DATASETS`)."""
    if size < 1:
        raise ConfigError(f"train_batch_size={size}; expected >= 1")
    experiments = list(experiments)
    owners = model_owners(experiments)
    out: list[TrainingBatch] = []
    for exp in experiments:
        for ds in exp.datasets:
            groups: dict[str, list[TrainingJob]] = {}
            for cell in exp.cells:
                for seed in exp.seeds:
                    job = (exp.name, ds, cell.id, seed)
                    if owners[job] != job:
                        continue  # trained by an identical cell of an earlier experiment
                    key = _batch_key(exp.training(ds, cell.id, seed))
                    groups.setdefault(key, []).append(job)
            n = size if ds in BATCHED_DATASETS else 1
            chunks = [g[i : i + n] for g in groups.values() for i in range(0, len(g), n)]
            out += [
                TrainingBatch(exp.name, ds, f"b{i:03d}", tuple(chunk))
                for i, chunk in enumerate(chunks)
            ]
    return out


def plan(experiments: Iterable[Experiment], batch_size: int = TRAIN_BATCH_SIZE) -> list[Job]:
    """Every training, evaluation, performance and table job of ``experiments``, in order.

    The Snakefile derives its targets from the same experiment objects; tests compare this
    list with Snakemake's dry run.
    """
    experiments = list(experiments)
    batches: dict[tuple[str, str], list[TrainingBatch]] = {}
    for b in training_batches(experiments, batch_size):
        batches.setdefault((b.experiment, b.dataset), []).append(b)
    jobs: list[Job] = []
    datasets: dict[str, None] = {}
    for exp in experiments:
        jobs.append(Job("spec", {"experiment": exp.name}))
        for ds in exp.datasets:
            datasets.setdefault(ds)
            jobs += [Job(b.rule, {}) for b in batches.get((exp.name, ds), [])]
            for seed in exp.seeds:
                for group in exp.groups:
                    for protocol in exp.protocols:
                        wc = dict(experiment=exp.name, dataset=ds, group=group, seed=str(seed))
                        jobs.append(Job("evaluate", {**wc, "protocol": protocol}))
            kinds = ["performance", "ig"] if exp.spec["performance"]["ig"] else ["performance"]
            for kind in kinds:
                jobs.append(Job("assess", {"experiment": exp.name, "dataset": ds, "kind": kind}))
        jobs.append(Job(f"aggregate_{exp.name}", {}))
    jobs[:0] = [Job("data", {"dataset": ds}) for ds in datasets]
    return jobs


def load_config(config: Mapping[str, Any], root: str | Path) -> dict:
    """The validated workflow config as Snakemake builds it, for callers without Snakemake.

    ``config`` goes over ``config/config.yaml``; a scale whose section is missing is read
    from ``config/<scale>.yaml`` (values given here win). Schema defaults are filled in.
    """
    root = Path(root)
    config = deep_merge(load_yaml(root / "config" / "config.yaml") or {}, config)
    scale = config.get("scale", "paper")
    if isinstance(scale, str) and scale not in config:
        scale_file = root / "config" / f"{scale}.yaml"
        if scale_file.is_file():
            config = deep_merge(load_yaml(scale_file), config)
    schema = load_yaml(root / "workflow" / "schemas" / "config.schema.yaml")
    return validate(config, schema, "config (config/config.yaml and --config)")


def experiments(conf: Mapping[str, Any], root: str | Path) -> dict[str, Experiment]:
    """The experiments a validated workflow config selects, each with its scale's overrides:
    ``conf['experiments']``, else the scale's list."""
    root = Path(root)
    section = conf.get(conf["scale"]) or {"experiments": [], "overrides": {}}
    names = conf["experiments"] if conf["experiments"] is not None else section["experiments"]
    if not names:
        raise ConfigError("config: key 'experiments': no experiment selected")
    schema = load_yaml(root / "workflow" / "schemas" / "experiment.schema.yaml")
    return {
        name: load_experiment(name, root / "config", schema, section["overrides"].get(name, {}))
        for name in names
    }


def resolve(config: Mapping[str, Any], root: str | Path) -> tuple[dict, dict[str, Experiment]]:
    """:func:`load_config` and its :func:`experiments`, from the repository ``root``."""
    conf = load_config(config, root)
    return conf, experiments(conf, root)


def check_device(device: str) -> None:
    """Fail before any job when ``device`` is ``cuda`` and torch on this machine sees no GPU
    (the onstart of a local run: a cluster's jobs run on nodes with their own GPUs). Only
    then is torch imported, so planning the DAG stays without it."""
    if device != "cuda":
        return
    from cftrain.experiment import resolve_device

    try:
        resolve_device(device)
    except RuntimeError as err:
        raise ConfigError(f"config: key 'device': {err}") from None


def check_raw_files(
    datasets: Iterable[str], mirror: str | Path | None = None, tabular_rows: str = "reference"
) -> None:
    """Fail before any job when a dataset's raw file can be neither found nor downloaded
    (Give Me Some Credit's raw file sits behind Kaggle's login), with the library's message."""
    from cftrain.data import raw_inputs
    from cftrain.data.acquire import RAW_FILES, data_root, fetch, mirror_dirs

    for name in datasets:
        for rel in raw_inputs(name, tabular_rows).values():
            spec = RAW_FILES[rel]
            if not spec.sources:  # no download: it must be local now, fetch says where
                fetch(spec, raw_dir=data_root() / "raw", mirrors=mirror_dirs(mirror))
