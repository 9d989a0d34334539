rule data:
    output:
        "results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    conda:
        "../../envs/cftrain.yaml"
    shell:
        "cftrain data {wildcards.dataset} --out {output} --threads {threads} > {log} 2>&1"
