rule table:
    input:
        table_inputs,
    output:
        csv="results/{experiment}/tables/{table}.csv",
        tex="results/{experiment}/tables/{table}.tex",
    params:
        options=table_options,
        stem=lambda wc: f"results/{wc.experiment}/tables/{wc.table}",
    log:
        "results/logs/table/{experiment}/{table}.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=4000,
    conda:
        "../../envs/cftrain.yaml"
    shell:
        "cftrain table {wildcards.table} --inputs {input} --options {params.options:q}"
        " --out {params.stem} > {log} 2>&1"


rule main_table:
    input:
        MAIN_SOURCES,
    output:
        csv="results/tables/main.csv",
        tex="results/tables/main.tex",
    log:
        "results/logs/main_table.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    conda:
        "../../envs/cftrain.yaml"
    shell:
        "cftrain cross-main --inputs {input} --out results/tables/main > {log} 2>&1"


def benchmark_files(wildcards):
    """Every benchmark file of the selected experiments' training and evaluation jobs."""
    files = []
    for job in cfg.plan(EXPERIMENTS.values()):
        w = job.wildcards
        if job.rule == "train":
            files.append(
                f"results/benchmarks/train/{w['experiment']}/{w['dataset']}/{w['cell']}/seed{w['seed']}.tsv"
            )
        elif job.rule == "evaluate":
            files.append(
                f"results/benchmarks/evaluate/{w['experiment']}/{w['dataset']}/"
                f"{w['protocol']}-{w['group']}-seed{w['seed']}.tsv"
            )
    return files


rule wall_times:
    input:
        benchmark_files,
    output:
        csv="results/tables/wall_times.csv",
        tex="results/tables/wall_times.tex",
    log:
        "results/logs/wall_times.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    conda:
        "../../envs/cftrain.yaml"
    shell:
        "cftrain wall-times --inputs {input} --root results/benchmarks"
        " --out results/tables/wall_times > {log} 2>&1"
