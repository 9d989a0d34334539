# one aggregation job per experiment: its tables differ, so one rule each
for exp in EXPERIMENTS.values():

    rule:
        name:
            f"aggregate_{exp.name}"
        input:
            evaluations=stage_outputs(exp, "evaluations"),
            performance=stage_outputs(exp, "performance"),
            ig=stage_outputs(exp, "ig"),
        output:
            [
                f"results/{exp.name}/tables/{t}.{ext}"
                for t in exp.tables
                for ext in ("csv", "tex")
            ],
        log:
            f"results/logs/aggregate/{exp.name}.log",
        benchmark:
            f"results/benchmarks/aggregate/{exp.name}.tsv"
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            runtime=10,
            mem_mb=4000,
        params:
            tables=exp.tables,
            options=table_options(exp),
            out=lambda w, output: os.path.dirname(output[0]),
        shell:
            "cftrain aggregate --tables {params.tables} --evaluations {input.evaluations}"
            " --performance {input.performance} --ig {input.ig} --options {params.options:q}"
            " --out-dir {params.out} > {log} 2>&1"


rule main_table:
    input:
        MAIN_SOURCES,
    output:
        csv="results/tables/main.csv",
        tex="results/tables/main.tex",
    log:
        "results/logs/main_table.log",
    benchmark:
        "results/benchmarks/main_table.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    shell:
        "cftrain cross-main --inputs {input} --out results/tables/main > {log} 2>&1"


rule wall_times:
    input:
        benchmark_files,
    output:
        csv="results/tables/wall_times.csv",
        tex="results/tables/wall_times.tex",
    log:
        "results/logs/wall_times.log",
    benchmark:
        "results/benchmarks/wall_times.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    shell:
        "cftrain wall-times --inputs {input} --root results/benchmarks"
        " --out results/tables/wall_times > {log} 2>&1"
