# The spec is a JSON file written in a second or two: on a cluster it runs beside Snakemake on
# the submitting node instead of costing a Slurm job each (docs/cluster.md, "Overhead"). It has
# no params: only a missing file makes it run; a changed experiment rewrites an existing one as
# the workflow is parsed (common.smk).
localrules:
    spec,


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
    run:
        write_spec_job(wildcards.experiment, output[0], log[0])


# One job per batch of cells (issue 25, cfg.training_batches): up to `train_batch_size` cells
# of one experiment and dataset that share the batch fields train stacked and each writes its
# usual files, so the rules downstream read <root>/<exp>/<dataset>/<cell>/seed<k>/ as before.
# The job checkpoints under <root>/<exp>/<dataset>/batches/<id>/ every epoch (a killed job
# resumes bitwise) and skips cells already written. A cell gone non-finite fails the job,
# naming it, after the others are written; Snakemake deletes the job's outputs, but the job
# keeps copies under batches/<id>/done/ so that the rerun trains only the failed cell.
for batch in TRAINING_BATCHES:

    rule:
        name:
            batch.rule
        input:
            data=L.path("data", dataset=batch.dataset),
            spec=ancient(L.path("spec", experiment=batch.experiment)),
        output:
            [
                L.path(what, experiment=e, dataset=ds, cell=c, seed=s)
                for e, ds, c, s in batch.cells
                for what in ("model", "training_log", "params")
            ],
        log:
            L.log(
                "train",
                experiment=batch.experiment,
                dataset=batch.dataset,
                batch=batch.id,
            ),
        benchmark:
            L.benchmark(
                "train",
                experiment=batch.experiment,
                dataset=batch.dataset,
                batch=batch.id,
            )
        group:
            "train_batches"  # profiles/slurm*: up to N batches per Slurm job
        conda:
            "../../envs/cftrain.yaml"
        threads: 1
        resources:
            **train_resources(batch),
        params:
            digest=cfg.digest(
                [EXPERIMENTS[e].training(d, c, s) for e, d, c, s in batch.cells]
            ),
            cells=" ".join(
                f"--cell {c} --seed {s} --out {model_dir(e, ds, c, s)}"
                for e, ds, c, s in batch.cells
            ),
            checkpoint=L.path(
                "batch_checkpoint",
                experiment=batch.experiment,
                dataset=batch.dataset,
                batch=batch.id,
            ),
            batch=batch.id,
            dataset=batch.dataset,
            device=config["device"],
        shell:
            "cftrain train-batch --spec {input.spec} --dataset {params.dataset}"
            " --batch {params.batch} {params.cells} --checkpoint {params.checkpoint}"
            " --threads {threads} --device {params.device} > {log} 2>&1"
