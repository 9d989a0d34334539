# Figures (issue 15): each notebook in paper/notebooks/ (jupytext percent format) is one rule,
# executed by `cftrain report notebook`; a failing cell fails the rule with its traceback in
# the log. Which figures a configuration draws is decided once, in
# cftrain.reporting.figures.FIGURES, for both the DAG and the notebooks.
from cftrain.reporting import figures as figure_registry
from cftrain.reporting import tables as report_tables

FIGURES_DIR = "results/figures"
RUN_DATASETS = {name: e.datasets for name, e in EXPERIMENTS.items()}
RUN_DATASETS_JSON = json.dumps(RUN_DATASETS, sort_keys=True)


def notebook_figures(notebook):
    names = figure_registry.expected(RUN_DATASETS, notebook)
    return [str(p) for p in figure_registry.figure_paths(FIGURES_DIR, names)]


def notebook_tables(notebook):
    """The aggregated CSVs a notebook reads, for the experiments that are configured."""
    keys = figure_registry.NOTEBOOK_TABLES[notebook]
    paths = {
        str(report_tables.table_path("results", *report_tables.SOURCES[k]))
        for k in keys
        if report_tables.SOURCES[k][0] in EXPERIMENTS
    }
    return sorted(paths)


def mnist_models(wildcards):
    """The MNIST models of `mutability` (first seed: the paper's) and the processed data."""
    exp = EXPERIMENTS["mutability"]
    seed = min(exp.seeds)
    return [
        f"{model_dir(exp.name, 'mnist', c.id, seed)}/model.pt" for c in exp.cells
    ] + ["results/data/mnist.json"]


def grid_tables(wildcards):
    return [
        f"results/{e}/tables/grid.csv"
        for e in figure_registry.GRID_EXPERIMENTS
        if e in EXPERIMENTS
    ]


FIGURE_TARGETS = [f for nb in figure_registry.NOTEBOOKS for f in notebook_figures(nb)]
NOTEBOOK_SHELL = (
    "cftrain report notebook {input.notebook} --datasets-json {params.datasets:q}"
    " --figures-dir " + FIGURES_DIR + " --executed {output.executed} > {log} 2>&1"
)


if notebook_figures("main_results"):

    rule figures_main_results:
        input:
            notebook="paper/notebooks/main_results.py",
            tables=notebook_tables("main_results"),
        output:
            figures=notebook_figures("main_results"),
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


if notebook_figures("ablation"):

    rule figures_ablation:
        input:
            notebook="paper/notebooks/ablation.py",
            tables=notebook_tables("ablation"),
        output:
            figures=notebook_figures("ablation"),
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


if notebook_figures("initial_grid"):

    rule figures_initial_grid:
        input:
            notebook="paper/notebooks/initial_grid.py",
            tables=notebook_tables("initial_grid"),
        output:
            figures=notebook_figures("initial_grid"),
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


if notebook_figures("mnist"):

    rule figures_mnist:
        input:
            notebook="paper/notebooks/mnist.py",
            models=mnist_models,
        output:
            figures=notebook_figures("mnist"),
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


if notebook_figures("grids"):

    rule figures_grids:
        input:
            notebook="paper/notebooks/grids.py",
            tables=grid_tables,
        output:
            figures=notebook_figures("grids"),
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
