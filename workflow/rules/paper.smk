# The paper (issue 15): `report` writes the macros file, the table fragments and the
# comparison with the published numbers from the aggregated tables; `paper` runs latexmk on
# paper/paper.tex and fails on what a reader would see (latexmk.build_pdf). With
# paper_from=record both read the committed record (record/) instead of a run, and write
# under results/from_record/.
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
APPENDIX_CONFIG = json.dumps(REPORT_CONFIG, sort_keys=True, default=str)
# where the report and the paper are written
OUT = paths.Layout(f"{L.root}/from_record") if FROM_RECORD else L
PAPER_TARGETS = [OUT.path("paper")]
# the committed investigation runs of benchmarks/fidelity.py (one option changed each)
VARIANTS = sorted(glob.glob(f"{ROOT}/benchmarks/results/fidelity-*.csv"))
# every dataset of the paper's experiments: the report reads each one's data summary
REPORT_DATASETS = sorted({d for ds in RUN_DATASETS.values() for d in ds})
# the committed timing records of the workflow's stages (elapsed seconds, machine)
TIMINGS = [
    path
    for path in (
        f"{ROOT}/benchmarks/results/{n}.json" for n in ("workflow", "reproduction")
    )
    if os.path.isfile(path)
]
# the committed run of benchmarks/explosions.py (the initial grid without the domain bound)
EXPLOSIONS = sorted(glob.glob(f"{ROOT}/benchmarks/results/explosions.json"))


rule report:
    input:
        tables=report_tables.required_inputs(SOURCE.root, RUN_DATASETS),
        wall_times=SOURCE.path("cross_table", table="wall_times", ext="csv"),
        variants=VARIANTS,
        explosions=EXPLOSIONS,
        verify=[] if FROM_RECORD else VERIFY_OUTPUTS["json"],
        timings=TIMINGS,
        data=[SOURCE.path("data", dataset=d) for d in REPORT_DATASETS],
    output:
        generated=[OUT.path("generated", name=n) for n in report_outputs.GENERATED],
        comparison=[OUT.path("comparison", ext=ext) for ext in ("csv", "tex")],
        comparison_rows=OUT.path("comparison_rows"),
        provenance=OUT.path("provenance"),
    log:
        OUT.log("report"),
    benchmark:
        OUT.benchmark("report")
    localrule: True
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        results=lambda w, input: os.path.dirname(os.path.dirname(input.wall_times)),
        datasets=RUN_DATASETS_JSON,
        config=APPENDIX_CONFIG,
        out=lambda w, output: os.path.dirname(output.generated[0]),
        comparison=lambda w, output: os.path.dirname(output.comparison[0]),
        verify=lambda w, input: f"--verify {input.verify}" if input.verify else "",
    shell:
        "cftrain report build --results {params.results} --datasets-json {params.datasets:q}"
        " --config-json {params.config:q} --out {params.out} --comparison {params.comparison}"
        " --wall-times {input.wall_times} --variants {input.variants}"
        " --explosions {input.explosions}"
        " --timings {input.timings} --provenance {output.provenance} {params.verify}"
        " > {log} 2>&1"


rule paper:
    input:
        tex=f"{ROOT}/paper/paper.tex",
        sources=PAPER_SOURCES,
        generated=rules.report.output.generated,
        figures=[
            f
            for files in NOTEBOOK_FIGURES.values()
            for f in files
            if f.endswith(".pdf")
        ],
    output:
        OUT.path("paper"),
    log:
        OUT.log("paper"),
    benchmark:
        OUT.benchmark("paper")
    localrule: True
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        build=OUT.path("paper_build_dir"),
        search=[OUT.path("generated_dir"), SOURCE.path("figures_dir")],
    shell:
        "cftrain report paper --tex {input.tex} --out {output} --build-dir {params.build}"
        " --search {params.search} > {log} 2>&1"
