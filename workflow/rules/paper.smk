# The paper (issue 15): `report` writes the macros file, the table fragments and the
# comparison with the published numbers from the aggregated tables; `paper` runs latexmk on
# paper/paper.tex and fails on undefined references or citations.
import glob

from cftrain.pipeline.reporting import outputs as report_outputs
from cftrain.pipeline.reporting import tables as report_tables

PAPER_SOURCES = sorted(
    [
        f"{ROOT}/paper/notation.tex",
        f"{ROOT}/paper/references.bib",
        *glob.glob(f"{ROOT}/paper/sections/*.tex"),
    ]
)
# what the appendix shows of the configuration: the scale and each experiment's resolved spec
APPENDIX_CONFIG = json.dumps(
    {"scale": config.get("scale"), **{n: e.spec for n, e in EXPERIMENTS.items()}},
    sort_keys=True,
    default=str,
)

PAPER_TARGETS = ["results/paper/paper.pdf"]
# the committed investigation runs of benchmarks/fidelity.py (one option changed each)
VARIANTS = sorted(glob.glob(f"{ROOT}/benchmarks/results/fidelity-*.csv"))


rule report:
    input:
        tables=report_tables.required_inputs("results", EXPERIMENTS),
        wall_times="results/tables/wall_times.csv",
        variants=VARIANTS,
    output:
        generated=[
            f"results/paper/generated/{name}" for name in report_outputs.GENERATED
        ],
        comparison=multiext("results/comparison/comparison", ".csv", ".tex"),
        provenance="results/provenance.json",
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        datasets=RUN_DATASETS_JSON,
        config=APPENDIX_CONFIG,
    shell:
        "cftrain report build --datasets-json {params.datasets:q} --config-json {params.config:q}"
        " --out results/paper/generated --comparison results/comparison"
        " --wall-times {input.wall_times} --variants {input.variants}"
        " --provenance {output.provenance} > {log} 2>&1"


rule paper:
    input:
        tex=f"{ROOT}/paper/paper.tex",
        sources=PAPER_SOURCES,
        generated=rules.report.output.generated,
        figures=[f for f in FIGURE_TARGETS if f.endswith(".pdf")],
    output:
        "results/paper/paper.pdf",
    log:
        "results/logs/paper.log",
    benchmark:
        "results/benchmarks/paper.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    shell:
        "cftrain report paper --tex {input.tex} --out {output}"
        " --build-dir results/paper/build --search results/paper/generated results/figures"
        " > {log} 2>&1"
