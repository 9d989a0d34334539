rule spec:
    output:
        L.pattern("spec"),
    log:
        L.log("spec"),
    benchmark:
        L.benchmark("spec")
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
        data=L.pattern("data"),
        spec=spec_file,
    output:
        model=L.pattern("model"),
        log=L.pattern("training_log"),
        params=L.pattern("params"),
    log:
        L.log("train"),
    benchmark:
        L.benchmark("train")
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
