rule train:
    input:
        "results/data/{dataset}.json",
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
        cell=lambda wc: json.dumps(
            EXPERIMENTS[wc.experiment].training(wc.dataset, wc.cell, int(wc.seed)),
            sort_keys=True,
        ),
        out=lambda wc: model_dir(wc.experiment, wc.dataset, wc.cell, wc.seed),
        device=config["device"],
    shell:
        "cftrain train --cell {params.cell:q} --out {params.out} --threads {threads}"
        " --device {params.device} > {log} 2>&1"
