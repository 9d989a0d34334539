rule evaluate:
    input:
        models=lambda wc: [f"{d}/model.pt" for d in group_models(wc).values()],
        reused=lambda wc: list(reused_evaluations(wc).values()),
    output:
        "results/{experiment}/{dataset}/eval/{protocol}-{group}-seed{seed}.parquet",
    log:
        "results/logs/evaluate/{experiment}/{dataset}/{protocol}-{group}-seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate/{experiment}/{dataset}/{protocol}-{group}-seed{seed}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=lambda wc: 8000 if wc.dataset == "mnist" else 4000,
        gpu=0,
    params:
        spec=lambda wc: json.dumps(
            EXPERIMENTS[wc.experiment].evaluation(wc.dataset, wc.group, wc.protocol),
            sort_keys=True,
        ),
        models=lambda wc: " ".join(
            f"--model {c}={d}" for c, d in group_models(wc).items()
        ),
        reuse=lambda wc: " ".join(
            f"--reuse {c}={p}" for c, p in reused_evaluations(wc).items()
        ),
        device=config["device"],
    shell:
        "cftrain evaluate --spec {params.spec:q} {params.models} {params.reuse}"
        " --seed {wildcards.seed}"
        " --out {output} --threads {threads} --device {params.device} > {log} 2>&1"


rule performance:
    input:
        lambda wc: [f"{d}/model.pt" for d in models_of(wc)],
    output:
        "results/{experiment}/{dataset}/performance.csv",
    log:
        "results/logs/performance/{experiment}/{dataset}.log",
    benchmark:
        "results/benchmarks/performance/{experiment}/{dataset}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=4000,
        gpu=0,
    params:
        spec=performance_spec,
        models=models_of,
        device=config["device"],
    shell:
        "cftrain performance --spec {params.spec:q} --models {params.models} --out {output}"
        " --threads {threads} --device {params.device} > {log} 2>&1"


rule ig:
    input:
        lambda wc: [f"{d}/model.pt" for d in models_of(wc)],
    output:
        "results/{experiment}/{dataset}/ig.csv",
    log:
        "results/logs/ig/{experiment}/{dataset}.log",
    benchmark:
        "results/benchmarks/ig/{experiment}/{dataset}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=4000,
        gpu=0,
    params:
        spec=performance_spec,
        models=models_of,
        device=config["device"],
    shell:
        "cftrain ig --spec {params.spec:q} --models {params.models} --out {output}"
        " --threads {threads} --device {params.device} > {log} 2>&1"
