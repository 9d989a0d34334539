# Figures (issue 15): each notebook in paper/notebooks/ (jupytext percent format) is one rule,
# executed by `cftrain report notebook`; a failing cell fails the rule with its traceback in
# the log. Which figures a configuration draws is decided once, in
# cftrain.pipeline.reporting.figures.FIGURES, for both the DAG and the notebooks. Sources are read from
# the repository (ROOT), results are written to the working directory (--directory works).
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
NOTEBOOK_SHELL = (
    "cftrain report notebook {input.notebook} --datasets-json {params.datasets:q}"
    " --figures-dir results/figures --executed {output.executed} > {log} 2>&1"
)


if "main_results" in NOTEBOOK_FIGURES:

    rule figures_main_results:
        input:
            notebook=f"{ROOT}/paper/notebooks/main_results.py",
            tables=NOTEBOOK_TABLES["main_results"],
        output:
            figures=NOTEBOOK_FIGURES["main_results"],
            executed="results/notebooks/main_results.ipynb",
        log:
            "results/logs/figures/main_results.log",
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=15,
            mem_mb=4000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            NOTEBOOK_SHELL


if "ablation" in NOTEBOOK_FIGURES:

    rule figures_ablation:
        input:
            notebook=f"{ROOT}/paper/notebooks/ablation.py",
            tables=NOTEBOOK_TABLES["ablation"],
        output:
            figures=NOTEBOOK_FIGURES["ablation"],
            executed="results/notebooks/ablation.ipynb",
        log:
            "results/logs/figures/ablation.log",
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=15,
            mem_mb=4000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            NOTEBOOK_SHELL


if "initial_grid" in NOTEBOOK_FIGURES:

    rule figures_initial_grid:
        input:
            notebook=f"{ROOT}/paper/notebooks/initial_grid.py",
            tables=NOTEBOOK_TABLES["initial_grid"],
        output:
            figures=NOTEBOOK_FIGURES["initial_grid"],
            executed="results/notebooks/initial_grid.ipynb",
        log:
            "results/logs/figures/initial_grid.log",
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=15,
            mem_mb=4000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            NOTEBOOK_SHELL


if "mnist" in NOTEBOOK_FIGURES:

    rule figures_mnist:
        input:
            notebook=f"{ROOT}/paper/notebooks/mnist.py",
            models=MNIST_INPUTS,
        output:
            figures=NOTEBOOK_FIGURES["mnist"],
            executed="results/notebooks/mnist.ipynb",
        log:
            "results/logs/figures/mnist.log",
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=30,
            mem_mb=8000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            NOTEBOOK_SHELL


if "grids" in NOTEBOOK_FIGURES:

    rule figures_grids:
        input:
            notebook=f"{ROOT}/paper/notebooks/grids.py",
            tables=NOTEBOOK_TABLES["grids"],
        output:
            figures=NOTEBOOK_FIGURES["grids"],
            executed="results/notebooks/grids.ipynb",
        log:
            "results/logs/figures/grids.log",
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=15,
            mem_mb=4000,
        params:
            datasets=RUN_DATASETS_JSON,
        shell:
            NOTEBOOK_SHELL
