rule data:
    output:
        L.pattern("data"),
    log:
        L.log("data"),
    benchmark:
        L.benchmark("data")
    localrule: True
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
