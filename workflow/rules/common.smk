# Configuration: schema validation (workflow/schemas/), experiments, targets, helpers.
import json
import os

from cftrain import config as cfg

ROOT = workflow.basedir
CONFIG, EXPERIMENTS = cfg.resolve(config, ROOT)
config.update(CONFIG)
if config["data_mirror"]:
    os.environ["CFTRAIN_DATA_MIRROR"] = os.path.abspath(config["data_mirror"])
DATASETS = list(dict.fromkeys(d for e in EXPERIMENTS.values() for d in e.datasets))
cfg.check_raw_files(DATASETS)
# minutes of one training / evaluation job at the paper's sizes on one core (with margin)
RUNTIME = {"mnist": 60, "adult": 30, "cali": 20, "credit": 20, "gmsc": 20}


wildcard_constraints:
    experiment="[A-Za-z0-9_]+",
    dataset="|".join(cfg.DATASET_NAMES),
    cell="[^/]+",
    seed=r"\d+",
    protocol="[A-Za-z0-9_]+",
    group="[A-Za-z0-9_.]+",
    table="[a-z_]+",


def model_dir(experiment, dataset, cell, seed):
    return f"results/{experiment}/{dataset}/{cell}/seed{seed}"


def eval_file(experiment, dataset, protocol, group, seed):
    return f"results/{experiment}/{dataset}/eval/{protocol}-{group}-seed{seed}.parquet"


def models_of(wildcards):
    """All model folders of one (experiment, dataset), every cell and seed."""
    exp = EXPERIMENTS[wildcards.experiment]
    return [
        model_dir(exp.name, wildcards.dataset, c.id, s) for c in exp.cells for s in exp.seeds
    ]


def table_inputs(wildcards):
    """Stage outputs a table of one experiment is built from."""
    from cftrain.tables import TABLES

    exp = EXPERIMENTS[wildcards.experiment]
    kind = TABLES[wildcards.table][0]
    if kind == "performance":
        return [f"results/{exp.name}/{d}/performance.csv" for d in exp.datasets]
    if kind == "ig":
        return [f"results/{exp.name}/{d}/ig.csv" for d in exp.datasets]
    return [
        eval_file(exp.name, d, p, g, s)
        for d in exp.datasets
        for p in exp.protocols
        for g in exp.groups
        for s in exp.seeds
    ]


def table_options(wildcards):
    exp = EXPERIMENTS[wildcards.experiment]
    options = dict(exp.spec["table_options"])
    options["datasets"] = exp.datasets
    options["grid_keys"] = list(exp.spec["train"]["grid"])
    return json.dumps(options, sort_keys=True)


MAIN_SOURCES = [
    f"results/{name}/tables/main.csv" for name, e in EXPERIMENTS.items() if "main" in e.tables
]
TABLE_TARGETS = [
    f"results/{name}/tables/{table}.{ext}"
    for name, e in EXPERIMENTS.items()
    for table in e.tables
    for ext in ("csv", "tex")
]
TABLE_TARGETS += [f"results/tables/wall_times.{ext}" for ext in ("csv", "tex")]
if MAIN_SOURCES:
    TABLE_TARGETS += [f"results/tables/main.{ext}" for ext in ("csv", "tex")]
