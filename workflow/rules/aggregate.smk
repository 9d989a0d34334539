# one aggregation job per experiment: its tables differ, so one rule each
for exp in EXPERIMENTS.values():

    rule:
        name:
            f"aggregate_{exp.name}"
        input:
            evaluations=stage_outputs(exp, "evaluations"),
            performance=stage_outputs(exp, "performance"),
            ig=stage_outputs(exp, "ig"),
            spec=ancient(L.path("spec", experiment=exp.name)),
        output:
            [table_file(exp.name, t, ext) for t in exp.tables for ext in ("csv", "tex")],
        log:
            L.log("aggregate", experiment=exp.name),
        benchmark:
            L.benchmark("aggregate", experiment=exp.name)
        localrule: True
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
            "cftrain aggregate --spec {input.spec} --tables {params.tables}"
            " --evaluations {input.evaluations} --performance {input.performance}"
            " --ig {input.ig} --options {params.options:q} --out-dir {params.out}"
            " --quarantine > {log} 2>&1"


rule main_table:
    input:
        MAIN_SOURCES,
    output:
        csv=cross_table("main", "csv"),
        tex=cross_table("main", "tex"),
    log:
        L.log("main_table"),
    benchmark:
        L.benchmark("main_table")
    localrule: True
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        stem=lambda w, output: output.csv.removesuffix(".csv"),
    shell:
        "cftrain cross-main --inputs {input} --out {params.stem} > {log} 2>&1"


rule wall_times:
    input:
        benchmark_files,
    output:
        csv=cross_table("wall_times", "csv"),
        tex=cross_table("wall_times", "tex"),
    log:
        L.log("wall_times"),
    benchmark:
        L.benchmark("wall_times")
    localrule: True
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        root=L.path("benchmarks_dir"),
        stem=lambda w, output: output.csv.removesuffix(".csv"),
    shell:
        "cftrain wall-times --inputs {input} --root {params.root}"
        " --out {params.stem} > {log} 2>&1"
