# Configuration: schema validation (workflow/schemas/), experiments, targets, helpers.
import json
import os

from cftrain.pipeline import config as cfg
from cftrain.vae import CACHE_ENV as VAE_CACHE_ENV

ROOT = workflow.basedir
CONFIG, EXPERIMENTS = cfg.resolve(config, ROOT)
# REVISE's VAE is fitted once per dataset and reused by every cell and evaluation job
os.environ.setdefault(VAE_CACHE_ENV, os.path.abspath("results/cache/vae"))
config.update(CONFIG)
DATASETS = list(dict.fromkeys(d for e in EXPERIMENTS.values() for d in e.datasets))


onstart:
    # here, not at parse time, so `--lint` and dry runs work without the raw files
    cfg.check_raw_files(DATASETS, config["data_mirror"])


# minutes of one training / evaluation job at the paper's sizes on one core (with margin)
RUNTIME = {"mnist": 60, "adult": 30, "cali": 20, "credit": 20, "gmsc": 20}


OWNERS = cfg.model_owners(EXPERIMENTS.values())


def model_dir(experiment, dataset, cell, seed):
    """The folder of the cell's model: that of the first cell training the identical model."""
    experiment, dataset, cell, seed = OWNERS.get(
        (experiment, dataset, cell, int(seed)), (experiment, dataset, cell, seed)
    )
    return f"results/{experiment}/{dataset}/{cell}/seed{seed}"


def eval_file(experiment, dataset, protocol, group, seed):
    return f"results/{experiment}/{dataset}/eval/{protocol}-{group}-seed{seed}.parquet"


def models_of(wildcards):
    """All model folders of one (experiment, dataset), every cell and seed."""
    exp = EXPERIMENTS[wildcards.experiment]
    return [
        model_dir(exp.name, wildcards.dataset, c.id, s)
        for c in exp.cells
        for s in exp.seeds
    ]


def stage_outputs(exp, kind):
    """The stage outputs of experiment ``exp`` that its tables of input ``kind`` need."""
    from cftrain.pipeline.tables import TABLES

    if not any(TABLES[t][0] == kind for t in exp.tables):
        return []
    if kind in ("performance", "ig"):
        return [f"results/{exp.name}/{d}/{kind}.csv" for d in exp.datasets]
    return [
        eval_file(exp.name, d, p, g, s)
        for d in exp.datasets
        for p in exp.protocols
        for g in exp.groups
        for s in exp.seeds
    ]


def table_options(exp):
    options = dict(exp.spec["table_options"])
    options["datasets"] = exp.datasets
    options["grid_keys"] = list(exp.spec["train"]["grid"])
    return json.dumps(options, sort_keys=True)


#: benchmark file of each benchmarked rule, by the job's wildcards (as in the rules)
BENCHMARKS = {
    "train": "results/benchmarks/train/{experiment}/{dataset}/{cell}/seed{seed}.tsv",
    "evaluate": (
        "results/benchmarks/evaluate/{experiment}/{dataset}/{protocol}-{group}-seed{seed}.tsv"
    ),
    "performance": "results/benchmarks/performance/{experiment}/{dataset}.tsv",
    "ig": "results/benchmarks/ig/{experiment}/{dataset}.tsv",
}


def benchmark_files(wildcards):
    """Every benchmark file of the selected experiments' jobs."""
    jobs = cfg.plan(EXPERIMENTS.values())
    return [
        BENCHMARKS[j.rule].format(**j.wildcards) for j in jobs if j.rule in BENCHMARKS
    ]


EVALUATION_OWNERS = cfg.evaluation_owners(EXPERIMENTS.values())


def reused_evaluations(wildcards):
    """Cell → the table of the first job that evaluates the cell's model identically."""
    job = (
        wildcards.experiment,
        wildcards.dataset,
        wildcards.group,
        wildcards.protocol,
        int(wildcards.seed),
    )
    out = {}
    for c in EXPERIMENTS[wildcards.experiment].groups[wildcards.group]:
        owner = EVALUATION_OWNERS[(job, c.id)]
        if owner != job:
            e, d, g, p, s = owner
            out[c.id] = eval_file(e, d, p, g, s)
    return out


def group_models(wildcards):
    exp = EXPERIMENTS[wildcards.experiment]
    return {
        c.id: model_dir(exp.name, wildcards.dataset, c.id, wildcards.seed)
        for c in exp.groups[wildcards.group]
    }


def performance_spec(wildcards):
    perf = EXPERIMENTS[wildcards.experiment].spec["performance"]
    spec = {"experiment": wildcards.experiment, "dataset": wildcards.dataset, **perf}
    spec.update(
        rounds=perf["ig_rounds"],
        sample_size=perf["ig_sample_size"],
        steps=perf["ig_steps"],
    )
    return json.dumps(spec, sort_keys=True)


MAIN_SOURCES = [
    f"results/{name}/tables/main.csv"
    for name, e in EXPERIMENTS.items()
    if "main" in e.tables
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
