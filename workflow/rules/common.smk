# Configuration: schema validation (workflow/schemas/), experiments, targets, helpers.
# Each experiment is resolved here, once; its jobs read it from <root>/specs/<name>.json.
# Every path comes from cftrain.pipeline.paths: a scale's run writes under its own root
# (results/ for the paper, results/<scale>/ otherwise) and is checked against its record
# (record/, record/<scale>/), which is committed; results/ never is.
import glob
import json
import os

from snakemake.utils import validate

from cftrain.pipeline import config as cfg
from cftrain.pipeline import paths

ROOT = workflow.basedir


# a scale without its own section in config/config.yaml is read from config/<scale>.yaml
if config.get("scale") not in config and os.path.isfile(
    f"{ROOT}/config/{config.get('scale')}.yaml"
):

    configfile: cfg.yaml_file(f"{ROOT}/config/{config['scale']}.yaml")


validate(config, f"{ROOT}/workflow/schemas/config.schema.yaml")
SCALE = config["scale"]
L = paths.Layout(paths.root(SCALE))  # this run's files
RECORD = paths.Layout(f"{ROOT}/{paths.record_root(SCALE)}")  # the committed record's
FROM_RECORD = config["paper_from"] == "record"
EXPERIMENTS = cfg.experiments(config, ROOT)
# An experiment whose spec file exists and changed is rewritten here, as the workflow is
# parsed. Rewritten by the spec job instead, Snakemake 9 skipped the jobs below that job: a run
# after a config change ended with cells missing (docs/architecture.md). A missing spec file is
# the spec job's, so a run that stops before any job writes nothing.
for _name, _exp in EXPERIMENTS.items():
    _spec = L.path("spec", experiment=_name)
    if os.path.isfile(_spec):
        cfg.write_spec(_exp, _spec)


def write_spec_job(experiment, out, log):
    """The spec job: the experiment as resolved here, then a line in its log."""
    path = cfg.write_spec(EXPERIMENTS[experiment], out)
    with open(log, "w") as f:
        print(f"spec of {experiment} → {path}", file=f)


# REVISE's VAE is fitted once per dataset and reused by every cell and evaluation job
# (cftrain.vae reads this variable)
os.environ.setdefault("CFTRAIN_VAE_CACHE", os.path.abspath(L.path("vae_cache")))
# restart=True: training jobs start over instead of resuming a checkpoint (`cftrain train
# --restart` reads this variable); an environment variable, not a param, so switching it
# does not mark every finished model as outdated
if config["restart"]:
    os.environ.update(CFTRAIN_RESTART="1")


onstart:
    # here, not at parse time, so `--lint` and dry runs work without the raw files (and
    # planning imports no torch); both still stop the run before any job
    if not FROM_RECORD:
        for e in EXPERIMENTS.values():
            cfg.check_raw_files(
                e.datasets, config["data_mirror"], e.spec["tabular_rows"]
            )
        if workflow.local_exec:  # a cluster's jobs run on nodes with their own GPUs
            cfg.check_device(config["device"])


# A file that a job refused (digest or identity wrong, cftrain.pipeline.artifacts) was moved to
# <name>.refused. Its path becomes a target, so this run remakes it and everything after it:
# Snakemake leaves a missing intermediate file missing while the files made from it are newer.
REFUSED = [
    path.removesuffix(paths.REFUSED_SUFFIX)
    for path in sorted(
        glob.glob(f"{L.root}/**/*{paths.REFUSED_SUFFIX}", recursive=True)
    )
    if os.path.relpath(path, L.root).split(os.sep)[0] in EXPERIMENTS
]


onsuccess:
    for path in REFUSED:  # remade: the marker has done its work
        if os.path.exists(path):
            os.remove(path + paths.REFUSED_SUFFIX)


# minutes of one training / evaluation job at the paper's sizes on one core (with margin)
RUNTIME = {"mnist": 60, "adult": 30, "cali": 20, "credit": 20, "gmsc": 20}


OWNERS = cfg.model_owners(EXPERIMENTS.values())
TRAINING_BATCHES = cfg.training_batches(
    EXPERIMENTS.values(), config["train_batch_size"]
)


def train_resources(batch):
    """Minutes, memory, and with train_gpu=1 one GPU (profiles/slurm-gpu: its model and
    partition from the environment, as that profile reads them for the other model jobs).
    """
    out = dict(
        runtime=RUNTIME.get(batch.dataset, 10 + 2 * len(batch.cells)),
        mem_mb=4000 if batch.dataset == "mnist" else 2000,
        gpu=config["train_gpu"],
    )
    if config["train_gpu"]:
        for key, var in (
            ("gpu_model", "CFTRAIN_SLURM_GPU_MODEL"),
            ("slurm_partition", "CFTRAIN_SLURM_GPU_PARTITION"),
        ):
            if os.environ.get(var):
                out[key] = os.environ[var]
    return out


def model_dir(experiment, dataset, cell, seed):
    """The folder of the cell's model: that of the first cell training the identical model."""
    experiment, dataset, cell, seed = OWNERS.get(
        (experiment, dataset, cell, int(seed)), (experiment, dataset, cell, seed)
    )
    return L.path(
        "model_dir", experiment=experiment, dataset=dataset, cell=cell, seed=seed
    )


def spec_file(wildcards):
    """The experiment's spec file; ``ancient``: a rewritten spec reruns only the jobs whose
    own part changed (their ``digest`` param), not all of them."""
    return ancient(L.path("spec", experiment=wildcards.experiment))


def eval_file(experiment, dataset, protocol, group, seed):
    return L.path(
        "evaluation",
        experiment=experiment,
        dataset=dataset,
        protocol=protocol,
        group=group,
        seed=seed,
    )


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
    if not any(cfg.TABLE_INPUTS[t] == kind for t in exp.tables):
        return []
    if kind in ("performance", "ig"):
        return [
            L.path("assessment", experiment=exp.name, dataset=d, kind=kind)
            for d in exp.datasets
        ]
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


def benchmark_files(wildcards):
    """Every benchmark file of the selected experiments' training and evaluation jobs."""
    return [
        getattr(rules, j.rule).benchmark.format(**j.wildcards)
        for j in cfg.plan(EXPERIMENTS.values(), config["train_batch_size"])
        if j.rule in ("evaluate", "assess") or j.rule.startswith("train_")
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


def table_file(experiment, table, ext="csv"):
    return L.path("table", experiment=experiment, table=table, ext=ext)


def cross_table(table, ext="csv"):
    return L.path("cross_table", table=table, ext=ext)


MAIN_SOURCES = [
    table_file(name, "main") for name, e in EXPERIMENTS.items() if "main" in e.tables
]
TABLE_TARGETS = [
    table_file(name, table, ext)
    for name, e in EXPERIMENTS.items()
    for table in e.tables
    for ext in ("csv", "tex")
]
TABLE_TARGETS += [cross_table("wall_times", ext) for ext in ("csv", "tex")]
if MAIN_SOURCES:
    TABLE_TARGETS += [cross_table("main", ext) for ext in ("csv", "tex")]
# the tables `verify` compares with the record: every aggregated CSV but the wall times
VERIFY_TABLES = [
    t for t in TABLE_TARGETS if t.endswith(".csv") and "wall_times" not in t
]
