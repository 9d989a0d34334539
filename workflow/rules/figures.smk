# Figures: each notebook in paper/notebooks/ (jupytext percent format) is one rule, executed
# by `cftrain report notebook`; a failing cell fails the rule with its traceback in the log.
# Which figures a configuration draws is decided once, in
# cftrain.pipeline.reporting.figures.FIGURES, for both the DAG and the notebooks. Sources are
# read from the repository (ROOT), results are written to the working directory.
from cftrain.pipeline.reporting import figures as figure_registry

RUN_DATASETS = {name: e.datasets for name, e in EXPERIMENTS.items()}
RUN_DATASETS_JSON = json.dumps(RUN_DATASETS, sort_keys=True)
NOTEBOOK_FIGURES = figure_registry.rule_outputs(RUN_DATASETS)
NOTEBOOK_TABLES = figure_registry.rule_tables(RUN_DATASETS)
FIGURE_TARGETS = [path for paths in NOTEBOOK_FIGURES.values() for path in paths]
# the MNIST images use the `mutability` models at their first seed (the paper's) and the data
MNIST_INPUTS = [
    f"results/mutability/mnist/{cell.id}/seed{min(exp.seeds)}/model.pt"
    for name, exp in EXPERIMENTS.items()
    if name == "mutability"
    for cell in exp.cells
] + ["results/data/mnist.json"]
# what each notebook reads: aggregated tables, except MNIST's, which draws from models
NOTEBOOK_INPUTS = {**NOTEBOOK_TABLES, "mnist": MNIST_INPUTS}


for name, figures in NOTEBOOK_FIGURES.items():

    rule:
        name:
            f"figures_{name}"
        input:
            notebook=f"{ROOT}/paper/notebooks/{name}.py",
            data=NOTEBOOK_INPUTS[name],
        output:
            figures=figures,
            executed=f"results/notebooks/{name}.ipynb",
        log:
            f"results/logs/figures/{name}.log",
        benchmark:
            f"results/benchmarks/figures/{name}.tsv"
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=30 if name == "mnist" else 15,
            mem_mb=8000 if name == "mnist" else 4000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            "cftrain report notebook {input.notebook} --datasets-json {params.datasets:q}"
            " --figures-dir results/figures --executed {output.executed} > {log} 2>&1"
