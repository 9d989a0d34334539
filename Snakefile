# Counterfactual Training reproduction: raw data → training per grid cell → evaluation →
# tables (→ figures and paper, workflow/rules/figures.smk and paper.smk) → verify against the
# committed record (workflow/rules/verify.smk).
#   snakemake --cores all                        the paper (single, mutability, ablation), results/
#   snakemake --cores all --config scale=smoke   the whole DAG at tiny sizes, results/smoke/
#   snakemake --cores all --config experiments=[initial_grid]
#   snakemake --cores all --config paper_from=record   only the paper, from record/
# Experiments are data: config/experiments/*.yaml, validated by workflow/schemas/.


from cftrain.pipeline import config as cfg


# cfg.yaml_file: a YAML syntax error names the file and line (Snakemake's message does not)
configfile: cfg.yaml_file(os.path.join(workflow.basedir, "config/config.yaml"))


include: "workflow/rules/common.smk"


wildcard_constraints:
    experiment="[A-Za-z0-9_]+",
    dataset="|".join(cfg.DATASET_NAMES),
    cell="[^/]+",
    seed=r"\d+",
    protocol="[A-Za-z0-9_]+",
    group="[A-Za-z0-9_.]+",
    kind="performance|ig",


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/verify.smk"
include: "workflow/rules/paper.smk"


rule all:
    default_target: True
    input:
        [] if FROM_RECORD else TABLE_TARGETS,
        FIGURE_TARGETS,
        PAPER_TARGETS,
        VERIFY_TARGETS,
        [] if FROM_RECORD else REFUSED,
