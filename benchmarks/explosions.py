"""Issue 29 part 3: do the seed draft's exploding plausibility values appear without the domain
bound?

The draft's initial grid (method §2.7) reported plausibility values of about −10¹¹ to −10¹⁷
for Generic (and ECCo at small λ_egy) under ``full``, attributed to counterfactuals leaving
the data domain. This script trains the initial grid's Generic and ECCo CT cells on LS
(``config/experiments/initial_grid.yaml``: final values, step 0.1, λ_cost × λ_egy × T) with
the search's domain bound off and on (``TrainingConfig.domain_bound``), plus the one BL
model, and evaluates each as the initial grid does (100 individuals × 5 runs, the paper's
ECCo protocol and the cell's own generator, ``EvalSetting.domain_bound``), each trained model
with the bound on and off at evaluation, so training and evaluation can be told apart.

Generic ignores λ_egy, so its 9 distinct trainings (λ_cost × T) serve all 8 λ_egy cells; each
cell is evaluated under its own id, as the workflow does (the id keys the evaluation's draws),
which makes the bound-on rows the recorded initial grid's (``record/initial_grid/tables``).

Writes ``benchmarks/results/explosions.json`` (figures) and ``explosions.csv`` (one row per
cell, training bound and evaluation bound, and protocol). Models are kept under ``--work``
so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks._common import RESULTS, write_result
from cftrain.atomic import atomic_path
from cftrain.data import load
from cftrain.evaluation import EvalSetting, benchmark_dataset
from cftrain.evaluation.aggregation import run_means
from cftrain.experiment import cell_config
from cftrain.models import build
from cftrain.pipeline import config as cfg
from cftrain.training import Cell, train_cells

DATASET = "lin_sep"
GENERATORS = ("generic", "ecco")
#: the grid of config/experiments/initial_grid.yaml
SPEC = cfg.load_yaml(Path(__file__).resolve().parents[1] / "config/experiments/initial_grid.yaml")
GRID = SPEC["train"]["grid"]
EVAL = SPEC["evaluation"]
ECCO_LAMBDAS = (0.1, 0.5, 1.0, 5.0, 10.0)  # the schema's default of protocol.lambda_energy
#: |IP| above this counts as an explosion (the draft's values were about 1e11 and above)
EXPLODED = 1e6


def cells(generators) -> list[dict]:
    """The grid's CT cells of ``generators`` in grid order, with the workflow's ids."""
    out = []
    for gen, cost, egy, t in itertools.product(
        generators, GRID["lambda_cost"], GRID["lambda_energy"], GRID["max_iter"]
    ):
        params = {
            "objective": "full",
            "generator": gen,
            "lambda_cost": cost,
            "lambda_energy": egy,
            "max_iter": t,
        }
        # Generic ignores λ_egy: its cells of one (λ_cost, T) share one training
        train_key = f"{gen}_cost{cost:g}_T{t}" + ("" if gen == "generic" else f"_egy{egy:g}")
        out.append({**params, "id": cfg.cell_id(params), "train_key": train_key})
    return out


def _config(params: dict, bound: bool):
    overrides = {
        **SPEC["train"]["fixed"],
        **{k: params[k] for k in ("generator", "lambda_cost", "lambda_energy", "max_iter")},
        "domain_bound": bound,
    }
    return cell_config(DATASET, objective=params["objective"], overrides=overrides)


def _path(work: Path, key: str, bound: bool | None) -> Path:
    tag = "" if bound is None else ("-on" if bound else "-off")
    return work / "models" / f"{key}{tag}.pt"


def train(data, todo: list[dict], bound: bool, work: Path, batch: int, epochs: int | None):
    """Train (or read) one model per distinct training of ``todo``; returns key → (model, info)."""
    out: dict[str, tuple[torch.nn.Module, dict]] = {}
    missing = []
    for params in {p["train_key"]: p for p in todo}.values():
        key = params["train_key"]
        path = _path(work, key, bound)
        model = build("mlp", data.n_features, data.n_classes, seed=0)
        if path.is_file():
            saved = torch.load(path, weights_only=False)
            model.load_state_dict(saved["state"])
            out[key] = (model, saved["info"])
        else:
            config = _config(params, bound)
            if epochs is not None:
                config = dataclasses.replace(config, nepochs=epochs)
            missing.append(Cell(key, config, model))
    for gen in GENERATORS:
        group = [c for c in missing if c.config.generator == gen]
        for start in range(0, len(group), batch):
            chunk = group[start : start + batch]
            t0 = time.perf_counter()
            results = train_cells(chunk, data, quiet=True)
            seconds = (time.perf_counter() - t0) / len(chunk)
            for cell, res in zip(chunk, results, strict=True):
                log = res.log
                info = {
                    "failed": res.failure is not None,
                    "failure_epoch": res.failure.epoch if res.failure else math.nan,
                    "epochs": len(log),
                    "accuracy": float(log["accuracy"].iloc[-1]) if len(log) else math.nan,
                    "max_abs_div": float(log["div"].abs().max()),
                    "max_ridge": float(log["ridge"].abs().max()),
                    "percent_mature_last": float(log["percent_mature"].iloc[-1]),
                    "n_skipped": int(log["n_skipped"].sum()),
                    "n_search_nonfinite": int(log["n_search_nonfinite"].sum()),
                    "train_seconds": seconds,
                }
                with atomic_path(_path(work, cell.id, bound)) as tmp:
                    torch.save({"state": cell.model.state_dict(), "info": info}, tmp)
                out[cell.id] = (cell.model, info)
            print(
                f"trained {len(chunk)} {gen} cells, bound {bound}: {seconds:.1f} s/cell", flush=True
            )
    return out


def vanilla(data, work: Path, epochs: int | None) -> torch.nn.Module:
    path = _path(work, "vanilla", None)
    model = build("mlp", data.n_features, data.n_classes, seed=0)
    if path.is_file():
        model.load_state_dict(torch.load(path, weights_only=False)["state"])
        return model
    config = cell_config(DATASET, objective="vanilla", overrides=SPEC["train"]["fixed"])
    if epochs is not None:
        config = dataclasses.replace(config, nepochs=epochs)
    train_cells([Cell("vanilla", config, model)], data, quiet=True)
    with atomic_path(path) as tmp:
        torch.save({"state": model.state_dict(), "info": {}}, tmp)
    return model


def settings(protocol: str, generator: str, bound: bool) -> list[EvalSetting]:
    """The initial grid's protocols (``ecco``: the paper's five ECCo settings; ``own``: the
    cell's training generator, one setting unless it is ECCo)."""
    name = "ECCo" if protocol == "ecco" else cfg.EVAL_GENERATOR[generator]
    lambdas = ECCO_LAMBDAS if name == "ECCo" else ECCO_LAMBDAS[:1]
    return [EvalSetting(lambda_energy=lam, generator=name, domain_bound=bound) for lam in lambdas]


def summarise(table: pd.DataFrame, model: str) -> dict:
    rows = table[table["model"] == model]
    valid = rows[rows["validity"]]
    runs = run_means(table[table["model"] == model], group_by=("dataset",))
    ip_abs = valid["ip"].abs()
    return {
        "plausibility": -float(runs["ip"].mean()) if len(runs) else math.nan,
        "ip_max": float(ip_abs.max()) if len(valid) else math.nan,
        "n_exploded": int((ip_abs > EXPLODED).sum()),
        "cost_mean": float(valid["cost"].mean()) if len(valid) else math.nan,
        "cost_max": float(rows["cost"].max()),
        "validity": float(rows["validity"].mean()),
        "domain_left": float(rows["domain_left"].mean()),
        "n_counterfactuals": len(rows),
    }


def evaluate(data, models, base, todo, train_bound, eval_bounds) -> list[dict]:
    rows = []
    for params, eval_bound, protocol in itertools.product(todo, eval_bounds, ("ecco", "own")):
        if protocol == "own" and params["generator"] == "ecco":
            continue  # its own generator is the ECCo protocol
        model, info = models[params["train_key"]]
        row = {
            **{k: params[k] for k in ("id", "generator", "lambda_cost", "lambda_energy")},
            "max_iter": params["max_iter"],
            "train_bound": train_bound,
            "eval_bound": eval_bound,
            "protocol": protocol,
            **info,
        }
        if info["failed"]:
            rows.append(row)
            continue
        table = benchmark_dataset(
            data,
            {params["id"]: model, "vanilla": base},
            settings(protocol, params["generator"], eval_bound),
            experiment="initial_grid",
            n_individuals=EVAL["n_individuals"],
            n_runs=EVAL["n_runs"],
            seed=EVAL.get("seed", 0),
        )
        row |= summarise(table, params["id"])
        row |= {f"bl_{k}": v for k, v in summarise(table, "vanilla").items()}
        rows.append(row)
    return rows


def changed_trainings(todo: list[dict], work: Path) -> dict[str, float]:
    """How many distinct trainings the bound changed at all (their parameters differ)."""
    diffs = []
    for key in dict.fromkeys(p["train_key"] for p in todo):
        off, on = (_path(work, key, b) for b in (False, True))
        if not (off.is_file() and on.is_file()):
            return {}
        a, b = (torch.load(f, weights_only=False)["state"] for f in (off, on))
        diffs.append(max(float((a[k] - b[k]).abs().max()) for k in a))
    return {
        "trainings": len(diffs),
        "trainings_changed": sum(d > 0 for d in diffs),
        "trainings_max_parameter_difference": max(diffs),
    }


def figures_of(df: pd.DataFrame) -> dict[str, float]:
    out: dict[str, float] = {}
    for (tb, eb), part in df[df["protocol"] == "own"].groupby(["train_bound", "eval_bound"]):
        tag = f"train_{'on' if tb else 'off'}.eval_{'on' if eb else 'off'}.own_generic"
        ok = part[~part["failed"].astype(bool)]
        out[f"{tag}.plausibility_min"] = ok["plausibility"].min()
        out[f"{tag}.ip_max"] = ok["ip_max"].max()
        out[f"{tag}.cells_exploded"] = int((ok["ip_max"] > EXPLODED).sum())
        out[f"{tag}.domain_left_max"] = ok["domain_left"].max()
    ecco = df[df["protocol"] == "ecco"]
    for (tb, eb), part in ecco.groupby(["train_bound", "eval_bound"]):
        tag = f"train_{'on' if tb else 'off'}.eval_{'on' if eb else 'off'}"
        ok = part[~part["failed"].astype(bool)]
        out[f"{tag}.cells"] = len(part)
        out[f"{tag}.cells_failed"] = int(part["failed"].astype(bool).sum())
        out[f"{tag}.plausibility_min"] = ok["plausibility"].min()
        out[f"{tag}.plausibility_median"] = ok["plausibility"].median()
        out[f"{tag}.ip_max"] = ok["ip_max"].max()
        out[f"{tag}.cells_exploded"] = int((ok["ip_max"] > EXPLODED).sum())
        out[f"{tag}.domain_left_max"] = ok["domain_left"].max()
        out[f"{tag}.domain_left_mean"] = ok["domain_left"].mean()
        out[f"{tag}.cost_max"] = ok["cost_max"].max()
        out[f"{tag}.validity_min"] = ok["validity"].min()
        out[f"{tag}.bl_plausibility"] = ok["bl_plausibility"].mean()
        # the draft's summary: mean over the λ_cost × T cells per generator and λ_egy
        means = ok.groupby(["generator", "lambda_energy"])["plausibility"].mean()
        out[f"{tag}.draft_table_min"] = means.min()
        for gen in GENERATORS:
            sub = ok[ok["generator"] == gen]
            out[f"{tag}.{gen}.plausibility_min"] = sub["plausibility"].min()
        if tb == eb:
            out[f"{tag}.max_abs_div"] = part["max_abs_div"].max()
            out[f"{tag}.max_ridge"] = part["max_ridge"].max()
            out[f"{tag}.accuracy_min"] = part["accuracy"].min()
    return {k: float(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bounds", nargs="+", choices=("off", "on"), default=["off", "on"])
    parser.add_argument("--generators", nargs="+", choices=GENERATORS, default=list(GENERATORS))
    parser.add_argument("--limit", type=int, help="only the first N cells per generator (timing)")
    parser.add_argument("--epochs", type=int, help="default: the grid's (100)")
    parser.add_argument("--batch", type=int, default=cfg.TRAIN_BATCH_SIZE, help="cells per batch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("results/explosions"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    data = load(DATASET)
    todo = [c for gen in args.generators for c in cells([gen])[: args.limit or None]]
    start = time.perf_counter()
    base = vanilla(data, args.work, args.epochs)
    rows = []
    for bound in args.bounds:
        models = train(data, todo, bound == "on", args.work, args.batch, args.epochs)
        rows += evaluate(data, models, base, todo, bound == "on", (False, True))
        print(f"bound {bound}: {time.perf_counter() - start:.0f} s so far", flush=True)
    df = pd.DataFrame(rows)
    complete = args.limit is None and args.epochs is None and len(args.generators) == 2
    name = "explosions" if complete and len(args.bounds) == 2 else "explosions-partial"
    with atomic_path(RESULTS / f"{name}.csv") as tmp:
        df.to_csv(tmp, index=False)
    figures = figures_of(df) | changed_trainings(todo, args.work)
    figures["seconds"] = time.perf_counter() - start
    figures["exploded_threshold"] = EXPLODED
    for k, v in figures.items():
        print(f"{k}: {v:.6g}" if not np.isnan(v) else f"{k}: nan")
    if name == "explosions":
        print("wrote", write_result("explosions", figures))


if __name__ == "__main__":
    main()
