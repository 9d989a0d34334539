rule evaluate:
    input:
        models=lambda wc: [f"{d}/model.pt" for d in group_models(wc).values()],
        reused=lambda wc: list(reused_evaluations(wc).values()),
        spec=spec_file,
    output:
        L.pattern("evaluation"),
    log:
        L.log("evaluate"),
    benchmark:
        L.benchmark("evaluate")
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=lambda wc: 8000 if wc.dataset == "mnist" else 4000,
        gpu=0,
    params:
        digest=lambda wc: cfg.digest(
            EXPERIMENTS[wc.experiment].evaluation(wc.dataset, wc.group, wc.protocol)
        ),
        models=lambda wc: " ".join(
            f"--model {c}={d}" for c, d in group_models(wc).items()
        ),
        reuse=lambda wc: " ".join(
            f"--reuse {c}={p}" for c, p in reused_evaluations(wc).items()
        ),
        device=config["device"],
    shell:
        "cftrain evaluate --spec {input.spec} --dataset {wildcards.dataset}"
        " --group {wildcards.group} --protocol {wildcards.protocol} {params.models}"
        " {params.reuse} --seed {wildcards.seed} --out {output} --threads {threads}"
        " --device {params.device} --quarantine > {log} 2>&1"


# accuracy and robustness (kind=performance) or integrated gradients (kind=ig) of every
# model of one experiment and dataset
rule assess:
    input:
        models=lambda wc: [f"{d}/model.pt" for d in models_of(wc)],
        spec=spec_file,
    output:
        L.pattern("assessment"),
    log:
        L.log("assess"),
    benchmark:
        L.benchmark("assess")
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=lambda wc: RUNTIME.get(wc.dataset, 10),
        mem_mb=4000,
        gpu=0,
    params:
        digest=lambda wc: cfg.digest(EXPERIMENTS[wc.experiment].performance(wc.dataset)),
        models=models_of,
        device=config["device"],
    shell:
        "cftrain {wildcards.kind} --spec {input.spec} --dataset {wildcards.dataset}"
        " --models {params.models} --out {output} --threads {threads}"
        " --device {params.device} --quarantine > {log} 2>&1"
