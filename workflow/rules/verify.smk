# verify (issue 24): every table cell of this run against the committed record of its scale
# (record/, record/<scale>/): exact on the record's machine and torch, within the tolerance of
# cftrain.pipeline.verify otherwise; a reduction whose star or sign differs is always listed.
# It reports by default; --config verify=strict fails the run on a difference.
VERIFY_OUTPUTS = {ext: L.path("verify", ext=ext) for ext in ("csv", "md", "json")}
VERIFY_TARGETS = [] if FROM_RECORD else list(VERIFY_OUTPUTS.values())


rule verify:
    input:
        tables=VERIFY_TABLES,
        record=[
            RECORD.root + "/" + os.path.relpath(t, L.root)
            for t in VERIFY_TABLES
            if os.path.isfile(RECORD.root + "/" + os.path.relpath(t, L.root))
        ],
    output:
        **VERIFY_OUTPUTS,
    log:
        L.log("verify"),
    benchmark:
        L.benchmark("verify")
    conda:
        "../../envs/cftrain.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        run=L.root,
        record=RECORD.root,
        mode=config["verify"],
        out=L.path("verify_dir"),
    shell:
        "cftrain verify --run {params.run} --record {params.record} --tables {input.tables}"
        " --mode {params.mode} --out {params.out} > {log} 2>&1"
