rule spec:
    output:
        "results/specs/{experiment}.json",
    log:
        "results/logs/spec/{experiment}.log",
    benchmark:
        "results/benchmarks/spec/{experiment}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=5,
        mem_mb=1000,
    params:
        spec=lambda wc: json.dumps(EXPERIMENTS[wc.experiment].spec),  # grid order = cell ids
    shell:
        "cftrain spec --experiment {wildcards.experiment} --json {params.spec:q}"
        " --out {output} > {log} 2>&1"


rule train:
    input:
        data="results/data/{dataset}.json",
        spec=spec_file,
    output:
        model="results/{experiment}/{dataset}/{cell}/seed{seed}/model.pt",
        log="results/{experiment}/{dataset}/{cell}/seed{seed}/log.csv",
        params="results/{experiment}/{dataset}/{cell}/seed{seed}/params.json",
    log:
        "results/logs/train/{experiment}/{dataset}/{cell}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{dataset}/{cell}/seed{seed}.tsv"
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=lambda wc: 4000 if wc.dataset == "mnist" else 2000,
        gpu=0,
    params:
        digest=lambda wc: cfg.digest(
            EXPERIMENTS[wc.experiment].training(wc.dataset, wc.cell, int(wc.seed))
        ),
        out=lambda wc: model_dir(wc.experiment, wc.dataset, wc.cell, wc.seed),
        device=config["device"],
    shell:
        "cftrain train --spec {input.spec} --dataset {wildcards.dataset} --cell {wildcards.cell}"
        " --seed {wildcards.seed} --out {params.out} --threads {threads}"
        " --device {params.device} > {log} 2>&1"
