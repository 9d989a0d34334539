"""The workflow's stages as library calls: one function per kind of job, files in and out.

Each function takes the job's part of its experiment's spec (a dict that
:class:`cftrain.pipeline.config.Experiment` gives for the job) and paths;
``cftrain <stage>`` is a thin wrapper around it, so a job can be run by hand without
Snakemake. Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from cftrain import data, models
from cftrain.atomic import atomic_path
from cftrain.batch_plan import plan_batches
from cftrain.evaluation import (
    EvalSetting,
    accuracy,
    benchmark,
    protected_sensitivity_rounds,
    robustness_curves,
    write_parquet,
)
from cftrain.experiment import cell_config, resolve_device, train_cell
from cftrain.pipeline import artifacts
from cftrain.pipeline.artifacts import MODEL_FILE, PARAMS_FILE
from cftrain.training import Cell, TrainingResult, train_cells
from cftrain.training_config import TrainingConfig

LOG_FILE = "log.csv"
#: a model's expected identity, by (cell, seed): what a reader of several models checks
Expected = Callable[[str, int], Mapping[str, Any]]


def write_json(obj: Any, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    return Path(path)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)


def data_job(name: str, out: str | Path, mirror: str | Path | None = None) -> dict[str, Any]:
    """Build (or read from the cache) dataset ``name``, raw files from ``mirror`` if given
    (else ``$CFTRAIN_DATA_MIRROR``); write a summary of what was built."""
    ds = data.load(name, mirror=mirror)
    summary = {
        "dataset": ds.name,
        "description": ds.description,
        "n_features": ds.n_features,
        "n_classes": ds.n_classes,
        "sizes": {s: len(getattr(ds, f"y_{s}")) for s in ("train", "val", "test")},
        "protected": [ds.feature_names[i] for i in ds.protected],
        "params": ds.meta.get("params", {}),
        "raw_sha256": ds.meta.get("raw_sha256", {}),
    }
    write_json(summary, out)
    return summary


def _dataset(spec: Mapping[str, Any]) -> data.Dataset:
    """The job's dataset, with the experiment's data options (``tabular_rows``) where set."""
    return data.load(spec["dataset"], **spec.get("data", {}))


def _checkpoint_dir(out: Path, config: TrainingConfig) -> Path:
    """A checkpoint folder per config, so a changed config never resumes a stale run."""
    digest = hashlib.sha256(config.to_json().encode()).hexdigest()[:12]
    return out / f"checkpoint-{digest}"


def training_config(spec: Mapping[str, Any]) -> TrainingConfig:
    """The cell's training config from its recipe in the experiment spec."""
    return cell_config(
        spec["dataset"],
        objective=spec["objective"],
        base=spec["base"],
        mutability=spec["mutability"],
        seed=spec["seed"],
        final_options=spec["final_options"],
        overrides=spec["overrides"],
    )


def train_job(
    spec: Mapping[str, Any], out: str | Path, device: str = "auto", restart: bool = False
) -> str:
    """Train one cell (``spec``: :meth:`cftrain.pipeline.config.Experiment.training`) into
    ``out``: ``model.pt`` (state dict), ``log.csv`` (per epoch), ``params.json`` (spec, the
    resolved config, device used, summary, and the model's digest and identity that its
    readers check, :func:`cftrain.pipeline.artifacts.check_model`). A killed job resumes from
    its per-epoch checkpoint, unless ``restart``. Returns the summary line."""
    out = Path(out)
    config = training_config(spec)
    used = resolve_device(device)
    ds = _dataset(spec)
    checkpoint = _checkpoint_dir(out, config)
    start = time.perf_counter()
    result = train_cell(
        ds,
        config,
        model=spec["model"],
        model_options=spec.get("model_options") or {},
        device=used,
        checkpoint_dir=checkpoint,
        quiet=not sys.stderr.isatty(),
        restart=restart,
    )
    summary = _summary(result, time.perf_counter() - start)
    seconds = summary["seconds"]
    _write_cell(out, spec, result, used, {"summary": summary})
    shutil.rmtree(checkpoint, ignore_errors=True)
    mature = summary["percent_mature"]
    return (
        f"trained {spec['experiment']}/{spec['dataset']}/{spec['cell']}/seed{spec['seed']}: "
        f"{summary['epochs']} epochs, accuracy {summary['accuracy']:.3f} "
        f"(validation {summary['val_accuracy']:.3f}), "
        f"{'n/a' if math.isnan(mature) else f'{mature:.1f}%'} mature, "
        f"{seconds:.1f} s on {used}"
    )


def _summary(result: TrainingResult, seconds: float) -> dict[str, Any]:
    last = result.log.iloc[-1]
    return {
        "epochs": int(last["epoch"]),
        "accuracy": float(last["accuracy"]),
        "val_accuracy": float(last["val_accuracy"]),
        "percent_mature": float(last["percent_mature"]),
        "seconds": seconds,
    }


def _write_cell(
    out: Path, spec: Mapping[str, Any], result: TrainingResult, used: torch.device, extra: dict
) -> None:
    """A cell's three files, each atomically; ``params.json`` last (it marks the cell done)
    with the model's digest and identity that its readers check."""
    state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
    buffer = io.BytesIO()  # saved from memory, the file's bytes do not depend on its name:
    torch.save(state, buffer)  # the same weights give the same model.pt (and SHA-256)
    with atomic_path(out / MODEL_FILE) as tmp:
        tmp.write_bytes(buffer.getvalue())
    write_csv(result.log, out / LOG_FILE)
    params = {
        **spec,
        "config": result.config.to_dict(),
        "device": str(used),
        "threads": torch.get_num_threads(),
        **extra,
        "torch": torch.__version__,
    }
    params.update(artifacts.sidecar(spec, out / MODEL_FILE))
    write_json(params, out / PARAMS_FILE)


class BatchFailure(RuntimeError):
    """Cells of a training batch that failed (non-finite parameters); the batch's other
    cells were written."""


def _done(out: Path) -> bool:
    return all((out / f).is_file() for f in (MODEL_FILE, LOG_FILE, PARAMS_FILE))


def _spec_digest(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _stash(out: Path, where: Path) -> None:
    """A copy of a written cell's files beside the checkpoint: Snakemake deletes a failed or
    killed job's outputs, the cells it finished included; the rerun restores them."""
    for name in (MODEL_FILE, LOG_FILE, PARAMS_FILE):
        with atomic_path(where / name) as tmp:
            shutil.copyfile(out / name, tmp)


def _restore(where: Path, out: Path) -> None:
    if _done(out) or not _done(where):
        return
    for name in (MODEL_FILE, LOG_FILE, PARAMS_FILE):  # params.json last: it marks the cell
        with atomic_path(out / name) as tmp:
            shutil.copyfile(where / name, tmp)


def train_batch_job(
    specs: Sequence[Mapping[str, Any]],
    outs: Sequence[str | Path],
    checkpoint_root: str | Path,
    batch: str = "b000",
    device: str = "auto",
    stop_after_epoch: int | None = None,
) -> str:
    """Train the cells ``specs`` (each :meth:`cftrain.pipeline.config.Experiment.training`,
    one dataset) together into their folders ``outs``: per cell the files of
    :func:`train_job`, ``params.json`` also recording ``batch``, ``k`` (cells trained
    together) and ``seconds`` (their shared wall time). Cells whose three files exist are
    skipped, and so are cells this job wrote before it failed or was killed (copies kept under
    ``checkpoint_root/done`` until the whole batch is written, since Snakemake deletes a failed
    job's outputs): a rerun trains only missing cells. :func:`cftrain.batch_plan.plan_batches`
    may split the cells further (e.g. on the CPU, tabular cells train alone); each part
    checkpoints its stacked state and every cell's RNG states after every epoch under
    ``checkpoint_root``, so a killed job resumes bitwise. A cell whose parameters become
    non-finite is not written: after the others are, :class:`BatchFailure` names it.
    ``checkpoint_root`` is removed when every cell is written.
    ``stop_after_epoch``: end after that epoch, writing nothing (tests kill a job so)."""
    if len(specs) != len(outs):
        raise ValueError(f"{len(specs)} specs but {len(outs)} output folders")
    datasets = {s["dataset"] for s in specs}
    if len(datasets) > 1:
        raise ValueError(f"one batch trains on one dataset, got {sorted(datasets)}")
    stash = Path(checkpoint_root) / "done"
    for spec, out in zip(specs, outs, strict=True):
        _restore(stash / _spec_digest(spec), Path(out))
    todo = [(s, Path(o)) for s, o in zip(specs, outs, strict=True) if not _done(Path(o))]
    if not todo:
        return f"batch {batch}: all {len(specs)} cells already trained"
    used = resolve_device(device)
    ds = _dataset(todo[0][0])
    cells, where = [], {}
    for spec, out in todo:
        config = training_config(spec)
        net = models.build(
            spec["model"],
            ds.n_features,
            ds.n_classes,
            seed=config.seed,
            **dict(spec.get("model_options") or {}),
        ).to(used)
        cell_id = f"{spec['experiment']}/{spec['dataset']}/{spec['cell']}/seed{spec['seed']}"
        cells.append(Cell(cell_id, config, net))
        where[cell_id] = (spec, out)
    failures, lines = [], []
    begin = time.perf_counter()
    for part in plan_batches(cells, max_cells=len(cells)):
        digest = hashlib.sha256(
            json.dumps([[c.id, c.config.to_json()] for c in part]).encode()
        ).hexdigest()[:12]
        checkpoint = Path(checkpoint_root) / f"checkpoint-{digest}"
        start = time.perf_counter()
        results = train_cells(
            part,
            ds,
            checkpoint_dir=checkpoint,
            stop_after_epoch=stop_after_epoch,
            quiet=not sys.stderr.isatty(),
        )
        seconds = time.perf_counter() - start
        if stop_after_epoch is not None and results[0].config.nepochs > stop_after_epoch:
            continue  # stopped early on purpose: the checkpoint holds the state
        for cell, result in zip(part, results, strict=True):
            if result.failure is not None:
                failure = result.failure
                failures.append(f"{cell.id} (epoch {failure.epoch}: {failure.reason})")
                continue
            spec, out = where[cell.id]
            summary = _summary(result, seconds)
            extra = {"summary": summary, "batch": batch, "k": len(part), "seconds": seconds}
            _write_cell(out, spec, result, used, extra)
            _stash(out, stash / _spec_digest(spec))
            mature = summary["percent_mature"]
            lines.append(
                f"trained {cell.id}: {summary['epochs']} epochs, accuracy "
                f"{summary['accuracy']:.3f} (validation {summary['val_accuracy']:.3f}), "
                f"{'n/a' if math.isnan(mature) else f'{mature:.1f}%'} mature, K = {len(part)}"
            )
        shutil.rmtree(checkpoint, ignore_errors=True)
    if failures:  # the stash keeps the good cells for the rerun
        raise BatchFailure(f"batch {batch}: cells failed: {'; '.join(failures)}")
    shutil.rmtree(stash, ignore_errors=True)
    if Path(checkpoint_root).is_dir() and not any(Path(checkpoint_root).iterdir()):
        Path(checkpoint_root).rmdir()
    total = time.perf_counter() - begin
    lines.append(
        f"batch {batch}: trained {len(lines)} of {len(specs)} cells, {total:.1f} s on {used}"
    )
    return "\n".join(lines)


class JobInputError(artifacts.RefusedArtifact):
    """A job's input file is missing, unreadable or does not fit the job; names the file (and
    is refused like a file of the wrong digest: the workflow moves it aside and remakes it)."""


def load_model(
    model_dir: str | Path,
    ds: data.Dataset,
    device: torch.device,
    expected: Mapping[str, Any] | None = None,
) -> nn.Module:
    """The trained model in ``model_dir`` (``params.json`` says how to build it); a missing,
    truncated or foreign file is a :class:`JobInputError` naming it. Then the file must match
    the digest recorded at training and be a model of ``ds`` (and of ``expected``, an identity
    of :func:`cftrain.pipeline.artifacts.expected_model`); else
    :class:`~cftrain.pipeline.artifacts.RefusedArtifact` naming it."""
    model_dir = Path(model_dir)
    params = _read_params(model_dir)
    net = models.build(
        params["model"], ds.n_features, ds.n_classes, **(params.get("model_options") or {})
    )
    path = model_dir / MODEL_FILE
    retrain = "train the cell again (delete its folder and rerun the workflow)"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several kinds for a short or foreign file
        size = path.stat().st_size if path.is_file() else 0
        detail = str(err).split(". ")[0] or type(err).__name__
        raise JobInputError(
            path, f"not a readable model file ({size} bytes; {detail}); {retrain}"
        ) from None
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise JobInputError(
            path,
            f"its weights do not fit a {params['model']} model for {ds.name} "
            f"({ds.n_features} features, {ds.n_classes} classes): {err}; {retrain}",
        ) from None
    artifacts.check_model(model_dir, expected, dataset=ds.name)  # its digest and identity
    return net.to(device).eval()


def _read_params(model_dir: Path) -> dict[str, Any]:
    """``params.json`` of a trained cell, or a :class:`JobInputError` naming it."""
    path = Path(model_dir) / PARAMS_FILE
    try:
        params = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        params = err
    if not isinstance(params, dict) or not {"model", "config", "seed", "cell"} <= set(params):
        raise JobInputError(
            path,
            f"not the params.json of a trained cell ({params!r:.200}); expected the "
            "folder `cftrain train --out` wrote",
        )
    return params


def _train_columns(model_dir: Path) -> dict[str, Any]:
    """The cell's resolved training parameters as ``train_<name>`` columns."""
    return {f"train_{k}": v for k, v in _read_params(model_dir)["config"].items()}


def evaluate_job(
    spec: Mapping[str, Any],
    model_dirs: Mapping[str, str | Path],
    out: str | Path,
    seed: int,
    device: str = "auto",
    reuse: Mapping[str, str | Path] | None = None,
    expected: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The method §5.2 benchmark of one cell group (cell id → model folder) under one protocol
    (``spec`` from :meth:`cftrain.pipeline.config.Experiment.evaluation`) → one parquet table with
    ``group``, ``protocol``, ``seed`` and the cells' ``train_*`` parameters added, and its
    identity and content digest (:func:`cftrain.pipeline.artifacts.stamp`).

    The cells must be the group's (``spec['cells']``), each once. ``expected`` (cell id → the
    model identity of :func:`cftrain.pipeline.artifacts.expected_model`): every model, and every
    copied table's model of the cell, must be that one; a file that is not is refused
    (:class:`~cftrain.pipeline.artifacts.RefusedArtifact`), naming it.

    ``reuse`` (cell id → parquet of an earlier job that evaluated the same model with the same
    settings, sizes and seeds, :func:`cftrain.pipeline.config.evaluation_owners`): those
    cells' rows are copied from there, relabelled, instead of searched again; the table equals
    the one a full run would write."""
    reuse = dict(reuse or {})
    expected = dict(expected or {})
    where = f"{spec['experiment']}/{spec['dataset']} group {spec['group']!r}"
    unknown = sorted(set(model_dirs) - set(spec["cells"]))
    missing = [c for c in spec["cells"] if c not in model_dirs]
    if unknown or missing:
        raise ValueError(
            f"evaluate: {where} has cells {spec['cells']}; the models given "
            + "; ".join(
                part
                for part in (
                    f"name cells {unknown} not in it" if unknown else "",
                    f"lack cells {missing}" if missing else "",
                )
                if part
            )
        )
    unknown = sorted(set(reuse) - set(model_dirs))
    if unknown:
        raise ValueError(f"evaluate: --reuse names cells {unknown} that are not in the group")
    used = resolve_device(device)
    ds = _dataset(spec)
    settings = [EvalSetting(**s) for s in spec["settings"]]
    start = time.perf_counter()
    tables = {path: artifacts.read_evaluation(path) for path in set(reuse.values())}  # once each
    parts = [
        _reused_rows(tables[path], path, cell, spec, seed, expected.get(cell))
        for cell, path in reuse.items()
    ]
    nets = {
        cell: load_model(path, ds, used, expected.get(cell, {"seed": int(seed)}))
        for cell, path in model_dirs.items()
        if cell not in reuse
    }
    if nets:
        x, y = ds.tensors(spec["split"], used)
        searched = benchmark(
            nets,
            x,
            y,
            settings,
            n_classes=ds.n_classes,
            constraints=ds.constraints(spec["protect"]),
            categorical_groups=ds.categorical,
            n_individuals=spec["n_individuals"],
            n_runs=spec["n_runs"],
            seed=spec["seed"],
            dataset=ds.name,
            experiment=spec["experiment"],
            pool=torch.from_numpy(ds.x_train).to(used),
        )
        parts.append((searched, {k: v for k, v in searched.attrs.items() if k != "seed"}))
    table = _in_benchmark_order([p[0] for p in parts], settings, list(model_dirs))
    counts = {k: {c: p[1][k][c] for p in parts for c in p[1][k]} for k in parts[0][1]}
    attrs = {k: {c: v[c] for c in model_dirs} for k, v in counts.items()}
    attrs.update(seed=spec["seed"], device=str(used))
    params = pd.DataFrame([{"model": c, **_train_columns(p)} for c, p in model_dirs.items()])
    table = table.assign(
        experiment=spec["experiment"], group=spec["group"], protocol=spec["protocol"], seed=seed
    )
    table = table.merge(params, on="model", how="left")
    table.attrs = attrs
    digests = {
        c: tables[reuse[c]].attrs[artifacts.IDENTITY]["models"][c]
        if c in reuse
        else json.loads((Path(p) / PARAMS_FILE).read_text())["model_digest"]
        for c, p in model_dirs.items()
    }
    artifacts.stamp(table, artifacts.evaluation_identity(spec, seed, digests))
    write_parquet(table, out)
    return (
        f"evaluated {spec['experiment']}/{ds.name} group {spec['group']} protocol "
        f"{spec['protocol']} seed {seed}: {len(table)} counterfactuals "
        f"({', '.join(reuse) or 'none'} copied), validity "
        f"{table['validity'].mean():.3f}, {time.perf_counter() - start:.1f} s on {used}"
    )


#: the setting's columns of an evaluation table: its fields but those kept out of its repr
#: (``domain_bound``, which the table does not carry)
_SETTING_COLUMNS = tuple(f.name for f in dataclasses.fields(EvalSetting) if f.repr)
_LABEL_COLUMNS = ("group", "protocol", "seed")


def _reused_rows(
    table: pd.DataFrame,
    path: str | Path,
    cell: str,
    spec: Mapping[str, Any],
    seed: int,
    expected: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Cell ``cell``'s benchmark rows and counts from an earlier evaluation table (read from
    ``path``), checked against ``spec`` and the cell's ``expected`` model identity so a stale
    or foreign file is refused, not copied."""
    recorded = table.attrs[artifacts.IDENTITY]["models"].get(cell)
    if expected is not None and recorded != expected["model_digest"]:
        raise artifacts.RefusedArtifact(
            path,
            f"its rows of cell {cell!r} evaluate model {str(recorded)[:12]}, not the "
            f"{expected['model_digest'][:12]} asked for",
        )
    rows = table[table["model"] == cell]
    settings = {tuple(s[c] for c in _SETTING_COLUMNS) for s in spec["settings"]}
    found = set(rows[list(_SETTING_COLUMNS)].itertuples(index=False, name=None))
    problems = [
        what
        for what, bad in (
            (f"no rows of cell {cell!r}", rows.empty),
            (f"dataset is not {spec['dataset']!r}", (rows["dataset"] != spec["dataset"]).any()),
            (f"training seed is not {seed}", (rows["seed"] != seed).any()),
            (f"evaluation seed is not {spec['seed']}", table.attrs.get("seed") != spec["seed"]),
            ("its settings differ", found != settings),
            (f"runs exceed {spec['n_runs']}", (rows["run"] >= spec["n_runs"]).any()),
        )
        if bad
    ]
    if problems:
        raise ValueError(f"evaluate: cannot reuse {path} for cell {cell!r}: {'; '.join(problems)}")
    columns = [c for c in rows.columns if c not in _LABEL_COLUMNS and not c.startswith("train_")]
    counts = {
        k: {cell: v[cell]}
        for k, v in table.attrs.items()
        if isinstance(v, dict) and k != artifacts.IDENTITY
    }
    return rows[columns], counts


def _in_benchmark_order(
    parts: Sequence[pd.DataFrame], settings: Sequence[EvalSetting], cells: Sequence[str]
) -> pd.DataFrame:
    """One table, its rows ordered as :func:`cftrain.evaluation.benchmark` orders them (by
    setting, then by model, each block in its own order)."""
    table = pd.concat(parts, ignore_index=True)
    setting_rank = {
        tuple(getattr(s, c) for c in _SETTING_COLUMNS): i for i, s in enumerate(settings)
    }
    keys = table[list(_SETTING_COLUMNS)].itertuples(index=False, name=None)
    order = pd.DataFrame(
        {
            "setting": [setting_rank[k] for k in keys],
            "model": table["model"].map({c: i for i, c in enumerate(cells)}),
        }
    )
    return table.loc[order.sort_values(["setting", "model"], kind="stable").index].reset_index(
        drop=True
    )


def _models_by_seed(
    model_dirs: Sequence[str | Path],
    ds: data.Dataset,
    device: torch.device,
    expected: Expected | None = None,
) -> dict[int, dict[str, nn.Module]]:
    """seed → {cell id → model} from model folders, each (cell, seed) once; with ``expected``
    ((cell, seed) → model identity) every model must be the one expected for its own cell and
    seed (:func:`load_model`)."""
    out: dict[int, dict[str, nn.Module]] = {}
    for path in map(Path, model_dirs):
        params = _read_params(path)
        cell, seed = params["cell"], int(params["seed"])
        if cell in out.get(seed, {}):
            raise ValueError(f"{path}: a second model of cell {cell!r} seed {seed}")
        want = expected(cell, seed) if expected is not None else None
        out.setdefault(seed, {})[cell] = load_model(path, ds, device, want)
    return out


def performance_job(
    spec: Mapping[str, Any],
    model_dirs: Sequence[str | Path],
    out: str | Path,
    device: str = "auto",
    expected: Expected | None = None,
) -> str:
    """Test accuracy of every model (attack ``clean``) and, if ``spec['robustness']``, its
    FGSM/PGD curves over the ε grid (method §5.4) → one tidy CSV. ``expected``: (cell, seed) →
    the model identity each folder must hold (:func:`_models_by_seed`)."""
    used = resolve_device(device)
    ds = _dataset(spec)
    x, y = ds.tensors("test", used)
    frames = []
    for seed, nets in sorted(_models_by_seed(model_dirs, ds, used, expected).items()):
        for cell, net in sorted(nets.items()):
            row = {
                "model": cell,
                "attack": "clean",
                "epsilon": 0.0,
                "accuracy": accuracy(net, x, y),
            }
            frames.append(pd.DataFrame([row]).assign(seed=seed))
        if spec["robustness"]:
            curves = robustness_curves(dict(sorted(nets.items())), x, y, seed=spec["seed"])
            frames.append(curves.assign(seed=seed))
    table = pd.concat(frames, ignore_index=True).assign(
        experiment=spec["experiment"], dataset=ds.name
    )
    cols = ["experiment", "dataset", "seed", "model", "attack", "epsilon", "accuracy"]
    write_csv(table[cols], out)
    return f"performance {spec['experiment']}/{ds.name}: {len(table)} rows on {used}"


def ig_job(
    spec: Mapping[str, Any],
    model_dirs: Sequence[str | Path],
    out: str | Path,
    device: str = "auto",
    expected: Expected | None = None,
) -> str:
    """Per bootstrap round, the mean standardised IG over the protected features of every
    model (method §5.5) → one CSV (dataset, seed, model, round, value). ``expected`` as for
    :func:`performance_job`."""
    used = resolve_device(device)
    ds = _dataset(spec)
    x, y = ds.tensors("test", used)
    frames = []
    for seed, nets in sorted(_models_by_seed(model_dirs, ds, used, expected).items()):
        for cell, net in sorted(nets.items()):
            values = protected_sensitivity_rounds(
                net,
                x,
                y,
                ds.protected,
                absolute=ds.n_features == 2,  # 2-D synthetic: |g_d|/(max−min), method §5.5
                seed=spec["seed"],
                n_rounds=spec["rounds"],
                sample_size=spec["sample_size"],
                n_steps=spec["steps"],
            )
            frames.append(
                pd.DataFrame({"round": range(len(values)), "value": values.cpu().numpy()}).assign(
                    seed=seed, model=cell
                )
            )
    table = pd.concat(frames, ignore_index=True).assign(
        experiment=spec["experiment"], dataset=ds.name
    )
    write_csv(table[["experiment", "dataset", "seed", "model", "round", "value"]], out)
    return f"integrated gradients {spec['experiment']}/{ds.name}: {len(table)} rounds on {used}"
