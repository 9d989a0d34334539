# Figures: each notebook in paper/notebooks/ (jupytext percent format) is one rule, executed
# by `cftrain report notebook`; a failing cell fails the rule with its traceback in the log.
# Which figures a configuration draws is decided once, in
# cftrain.pipeline.reporting.figures.FIGURES, for both the DAG and the notebooks. Sources are
# read from the repository (ROOT), results are written to the working directory.
# With paper_from=record no figure is drawn: the paper takes the record's (record/figures/).
from cftrain.pipeline import record as record_tools
from cftrain.pipeline.reporting import figures as figure_registry

if FROM_RECORD:
    if SCALE != paths.MAIN_SCALE or not os.path.isfile(RECORD.path("provenance")):
        raise ValueError(
            f"paper_from=record: no paper record at {RECORD.root} (provenance.json); the record"
            " of the paper scale is the one the paper is built from"
        )
    with open(RECORD.path("provenance")) as f:
        RECORDED = json.load(f)  # the recorded run's experiments, in its order
    REPORT_CONFIG = RECORDED["config"]
    RUN_DATASETS = {
        n: REPORT_CONFIG[n]["datasets"] for n in record_tools.experiment_order(RECORDED)
    }
else:
    REPORT_CONFIG = {"scale": SCALE, **{n: e.spec for n, e in EXPERIMENTS.items()}}
    RUN_DATASETS = {name: e.datasets for name, e in EXPERIMENTS.items()}
RUN_DATASETS_JSON = json.dumps(RUN_DATASETS)  # in the run's order
# where the tables and figures the paper reads come from: this run, or the record
SOURCE = RECORD if FROM_RECORD else L
NOTEBOOK_FIGURES = figure_registry.rule_outputs(
    RUN_DATASETS, SOURCE.path("figures_dir")
)
NOTEBOOK_TABLES = figure_registry.rule_tables(RUN_DATASETS, SOURCE.root)
# the figure rules of this run (none from the record: its figures are drawn)
DRAWN = {} if FROM_RECORD else NOTEBOOK_FIGURES
FIGURE_TARGETS = [path for files in DRAWN.values() for path in files]
# the MNIST images use the `mutability` models at their first seed (the paper's) and the data
MNIST_INPUTS = [
    L.path(
        "model",
        experiment="mutability",
        dataset="mnist",
        cell=cell.id,
        seed=min(exp.seeds),
    )
    for name, exp in EXPERIMENTS.items()
    if name == "mutability"
    for cell in exp.cells
] + [L.path("data", dataset="mnist")]
# the proof-of-concept figure: the LS models of single and mutability at their first seed
POC_INPUTS = [
    L.path(
        "model",
        experiment=name,
        dataset="lin_sep",
        cell=cell.id,
        seed=min(exp.seeds),
    )
    for name, exp in EXPERIMENTS.items()
    if name in ("single", "mutability") and "lin_sep" in exp.datasets
    for cell in exp.cells
] + [L.path("data", dataset="lin_sep")]
# what each notebook reads: aggregated tables, except MNIST's and the proof of concept's,
# which draw from models
NOTEBOOK_INPUTS = {**NOTEBOOK_TABLES, "mnist": MNIST_INPUTS, "poc": POC_INPUTS}


for name, figures in DRAWN.items():

    rule:
        name:
            f"figures_{name}"
        input:
            notebook=f"{ROOT}/paper/notebooks/{name}.py",
            data=NOTEBOOK_INPUTS[name],
        output:
            figures=figures,
            executed=L.path("notebook", notebook=name),
        log:
            L.log("figures", notebook=name),
        benchmark:
            L.benchmark("figures", notebook=name)
        localrule: True
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=30 if name == "mnist" else 15,
            mem_mb=8000 if name == "mnist" else 4000,
        params:
            datasets=RUN_DATASETS_JSON,
            results=lambda w, output: os.path.dirname(
                os.path.dirname(output.figures[0])
            ),
            figures_dir=lambda w, output: os.path.dirname(output.figures[0]),
        shell:
            "cftrain report notebook {input.notebook} --datasets-json {params.datasets:q}"
            " --results {params.results} --figures-dir {params.figures_dir}"
            " --executed {output.executed} > {log} 2>&1"
