rule data:
    output:
        "results/data/{dataset}.json",
    log:
        "results/logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    params:
        mirror=f"--mirror {config['data_mirror']}" if config["data_mirror"] else "",
    shell:
        "cftrain data {wildcards.dataset} --out {output} {params.mirror} --threads {threads} > {log} 2>&1"
