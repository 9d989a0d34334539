"""The results layout, in one place: where every file of a run and of the record lives.

A run writes under its scale's root (:func:`root`): ``results/`` for the paper,
``results/<scale>/`` for any other scale (``results/smoke/``), so no job of one scale reads or
overwrites a file of another. ``results/`` is never committed. The committed record of a run
lives under :func:`record_root` (``record/``, ``record/smoke/``) in the same layout, so that the
report, the notebooks and ``verify`` read a run and the record alike.

:class:`Layout` turns the templates of :data:`TEMPLATES` into paths under one root:
``Layout("results").path("model", experiment="single", dataset="moons", cell="full", seed=0)``
is ``results/single/moons/full/seed0/model.pt``; ``.pattern("model")`` keeps the wildcards
(``results/{experiment}/{dataset}/{cell}/seed{seed}/model.pt``) for a Snakemake rule. Plain
Python: the workflow's DAG imports it, and planning imports no torch.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

RESULTS = "results"
RECORD = "record"
#: a file a job refused is moved to ``<name>.refused`` (:mod:`cftrain.pipeline.artifacts`)
REFUSED_SUFFIX = ".refused"
#: the scale whose run writes to ``results/`` itself (and whose record is ``record/``)
MAIN_SCALE = "paper"

#: a job's log and benchmark file, by rule: ``<logs|benchmarks>/<this>.<log|tsv>``; a rule
#: not listed has one job, ``<logs|benchmarks>/<rule>.<log|tsv>``. The first folder is the
#: rule's (the assess rule's is its kind), which ``cftrain wall-times`` reads back.
_JOB_FILES = {
    "spec": "spec/{experiment}",
    "data": "data/{dataset}",
    "train": "train/{experiment}/{dataset}/{batch}",  # one job trains a batch of cells
    "evaluate": "evaluate/{experiment}/{dataset}/{protocol}-{group}-seed{seed}",
    "assess": "{kind}/{experiment}/{dataset}",
    "aggregate": "aggregate/{experiment}",
    "figures": "figures/{notebook}",
}
_CELL = "{experiment}/{dataset}/{cell}/seed{seed}"

#: file kind → its path relative to a root (``str.format`` fields are the job's coordinates)
TEMPLATES: dict[str, str] = {
    "spec": "specs/{experiment}.json",
    "data": "data/{dataset}.json",
    "model_dir": _CELL,
    "model": f"{_CELL}/model.pt",
    "training_log": f"{_CELL}/log.csv",
    "params": f"{_CELL}/params.json",
    "batch_checkpoint": "{experiment}/{dataset}/batches/{batch}",
    "evaluation": "{experiment}/{dataset}/eval/{protocol}-{group}-seed{seed}.parquet",
    "assessment": "{experiment}/{dataset}/{kind}.csv",  # kind: performance | ig
    "tables_dir": "{experiment}/tables",
    "table": "{experiment}/tables/{table}.{ext}",
    "cross_tables_dir": "tables",
    "cross_table": "tables/{table}.{ext}",  # main, wall_times
    "benchmarks_dir": "benchmarks",
    "logs_dir": "logs",
    "figures_dir": "figures",
    "notebook": "notebooks/{notebook}.ipynb",
    "generated_dir": "paper/generated",
    "generated": "paper/generated/{name}",
    "paper_build_dir": "paper/build",
    "paper": "paper/paper.pdf",
    "comparison_dir": "comparison",
    "comparison": "comparison/comparison.{ext}",
    "comparison_rows": "comparison/rows.csv",
    "provenance": "provenance.json",
    "verify_dir": "verify",
    "verify": "verify/report.{ext}",  # csv | md | json
    "verify_differences": "verify/differences.csv",
    "vae_cache": "cache/vae",
    "archive_dir": "archive",  # where `cftrain record pack` writes the archive to deposit
}


def root(scale: str) -> str:
    """The results root of a scale: ``results`` for the paper, ``results/<scale>`` else."""
    return RESULTS if scale == MAIN_SCALE else f"{RESULTS}/{scale}"


def record_root(scale: str) -> str:
    """The committed record of a scale, relative to the repository: ``record[/<scale>]``."""
    return RECORD if scale == MAIN_SCALE else f"{RECORD}/{scale}"


def fields(template: str) -> list[str]:
    """The wildcard names of a template, in order."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


@dataclass(frozen=True)
class Layout:
    """The files of one run (or record) under ``root``."""

    root: str

    def pattern(self, what: str, /) -> str:
        """The path of ``what`` with its wildcards left in (a Snakemake rule's pattern)."""
        return f"{self.root}/{TEMPLATES[what]}"

    def path(self, what: str, /, **coordinates: object) -> str:
        """The path of ``what`` for the given coordinates (every wildcard must be given)."""
        return self.pattern(what).format(**coordinates)

    def log(self, rule: str, /, **coordinates: object) -> str:
        """A job's log: ``logs/<rule>/<its coordinates>.log`` (wildcards kept when none given)."""
        return self._job_file("logs", rule, "log", coordinates)

    def benchmark(self, rule: str, /, **coordinates: object) -> str:
        """A job's Snakemake benchmark file: ``benchmarks/<rule>/<its coordinates>.tsv``."""
        return self._job_file("benchmarks", rule, "tsv", coordinates)

    def _job_file(self, folder: str, rule: str, ext: str, coordinates: dict, /) -> str:
        pattern = f"{self.root}/{folder}/{_JOB_FILES.get(rule, rule)}.{ext}"
        return pattern.format(**coordinates) if coordinates else pattern

    def relative(self, path: str | Path) -> str:
        """``path`` relative to this root (as the record's manifest lists it)."""
        return Path(path).relative_to(self.root).as_posix()
