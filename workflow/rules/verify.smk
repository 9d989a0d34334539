# verify (issue 24): every table cell of this run against the committed record of its scale
# (record/, record/<scale>/): exact on the record's machine and torch, within the tolerance of
# cftrain.pipeline.verify otherwise; a reduction whose star or sign differs is always listed.
# It reports by default; --config verify=strict fails the run on a difference.
VERIFY_OUTPUTS = {ext: L.path("verify", ext=ext) for ext in ("csv", "md", "json")}
VERIFY_OUTPUTS["differences"] = L.path("verify_differences")
VERIFY_TARGETS = [] if FROM_RECORD else list(VERIFY_OUTPUTS.values())


rule verify:
    input:
        tables=VERIFY_TABLES,
        record=[
            path
            for path in (
                os.path.join(RECORD.root, os.path.relpath(t, L.root))
                for t in VERIFY_TABLES
            )
            if os.path.isfile(path)
        ],
    output:
        **VERIFY_OUTPUTS,
    log:
        L.log("verify"),
    benchmark:
        L.benchmark("verify")
    localrule: True
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        run=lambda w, output: os.path.dirname(os.path.dirname(output.csv)),
        record=lambda w: RECORD.root,  # in the repository, not the working directory
        mode=config["verify"],
        out=lambda w, output: os.path.dirname(output.csv),
    shell:
        "cftrain verify --run {params.run} --record {params.record} --tables {input.tables}"
        " --mode {params.mode} --out {params.out} > {log} 2>&1"
