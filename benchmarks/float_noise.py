"""Float noise across CPUs and thread counts (issue 24): the evidence for `verify`'s tolerance.

Not a timing benchmark. The paper-scale ``single`` cells of LS, Circ, Moon, OL and Adult (seed 0:
training, evaluation, tables) are run with the repository's workflow three times, each in its
own folder under ``--workdir``:

``same``      as the workflow runs them: one thread per job, this CPU's kernels;
``avx2``      with the CPU's AVX-512 kernels switched off in torch, MKL, oneDNN, NumPy and
              OpenBLAS (:data:`AVX2`): the arithmetic of an AVX2 CPU on this one;
``threads2``  two threads per training, evaluation and assessment job.

Comparisons: ``avx2`` and ``threads2`` against ``same``, and ``same`` against the committed
record (``record/``, made on another machine of the same cloud). ``--smoke`` adds the smoke
scale with AVX2 kernels against ``record/smoke/`` (every table kind; 4 training epochs, so less
divergence than at the paper's 100). Per comparison and result column the figures are the
largest and the median of ``|run − reference| / max(|reference|, m)`` (``m``: the column's
median magnitude; `verify`'s measure, :mod:`cftrain.pipeline.verify`), the cells compared, the
cells equal, and the reductions whose star or sign flipped. ``--compare-only`` recomputes them
from existing folders. About 45 minutes on 2 busy cores.

    python -m benchmarks.float_noise --workdir /tmp/float_noise [--smoke]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks._common import write_result
from cftrain.pipeline import paths, verify

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ["lin_sep", "circles", "moons", "over", "adult"]
TABLES = [f"single/tables/{t}.csv" for t in ("main", "absolute", "costs_unconstrained")] + [
    f"single/tables/{t}.csv" for t in ("validity", "accuracy")
]
#: an AVX2 CPU's arithmetic on an AVX-512 one
AVX2 = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
}
VARIANTS = {
    "same": ({}, ["--cores", "1"]),
    "avx2": (AVX2, ["--cores", "1"]),
    "threads2": ({}, ["--cores", "2", "--set-threads", "train=2", "evaluate=2", "assess=2"]),
}


def run_variant(workdir: Path, name: str) -> None:
    env_extra, args = VARIANTS[name]
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    config = workdir / "single5.yaml"
    config.write_text(
        "paper:\n  experiments: [single]\n"
        f"  overrides:\n    single: {{datasets: [{', '.join(DATASETS)}]}}\n"
    )
    env = dict(os.environ, **env_extra, CFTRAIN_DATA_DIR=str(folder / "data"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = [sys.executable, "-m", "snakemake", "aggregate_single", "-s", str(ROOT / "Snakefile")]
    command += ["--configfile", str(config), "--directory", str(folder), *args]
    subprocess.run(command, env=env, check=True)


def run_smoke(workdir: Path) -> None:
    folder = workdir / "smoke_avx2"
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **AVX2, CFTRAIN_DATA_DIR=str(folder / "data"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2"]
    command += ["--config", "scale=smoke", "--directory", str(folder)]
    subprocess.run(command, env=env, check=True)


def scaled_differences(run: Path, reference: Path, tables: list[str]) -> pd.DataFrame:
    """Per result cell of the run's rows: its column, scaled difference, flip and equality."""
    rows = []
    for name in tables:
        mine, theirs = verify.read_table(run / name), verify.read_table(reference / name)
        keys = verify.key_columns(theirs)
        if "dataset" in keys:  # averages cover other datasets in the record
            mine, theirs = mine[mine["dataset"] != "Avg."], theirs[theirs["dataset"] != "Avg."]
        merged = mine.merge(theirs, on=keys, suffixes=("_run", "_ref"))
        for column in (c for c in theirs.columns if c in verify.VALUE_COLUMNS):
            scale = verify._median_magnitude(theirs[column])
            for a, b in zip(merged[f"{column}_run"], merged[f"{column}_ref"], strict=True):
                cell = verify.compare_cell(column, a, b, verify.EXACT)
                x, y = verify._number(a), verify._number(b)
                diff = abs(x - y) / max(abs(y), scale) if max(abs(y), scale) else 0.0
                rows.append(
                    {
                        "table": name,
                        "column": column,
                        "scaled": 0.0 if a == b else diff,
                        "equal": a == b,
                        "flip": bool(cell["flip"]),
                    }
                )
    return pd.DataFrame(rows)


def figures_of(label: str, cells: pd.DataFrame) -> dict[str, float]:
    out = {
        f"{label}.cells": len(cells),
        f"{label}.equal": int(cells["equal"].sum()),
        f"{label}.flips": int(cells["flip"].sum()),
    }
    for column, part in cells.groupby("column"):
        values = part["scaled"].replace(math.inf, math.nan).dropna()
        out[f"{label}.{column}.max"] = float(values.max()) if len(values) else 0.0
        out[f"{label}.{column}.median"] = float(values.median()) if len(values) else 0.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true", help="also the smoke scale, AVX2")
    parser.add_argument("--compare-only", action="store_true", help="run nothing")
    args = parser.parse_args()
    if not args.compare_only:
        for name in VARIANTS:
            run_variant(args.workdir, name)
        if args.smoke:
            run_smoke(args.workdir)
    root = paths.root("paper")
    same = args.workdir / "same" / root
    figures: dict[str, float] = {}
    for label, run, reference in (
        ("avx2_vs_same", args.workdir / "avx2" / root, same),
        ("threads2_vs_same", args.workdir / "threads2" / root, same),
        ("same_vs_record", same, ROOT / paths.record_root("paper")),
    ):
        figures |= figures_of(label, scaled_differences(run, reference, TABLES))
    smoke = args.workdir / "smoke_avx2" / paths.root("smoke")
    if smoke.is_dir():
        record = ROOT / paths.record_root("smoke")
        tables = sorted(
            str(p.relative_to(record)) for p in record.rglob("*.csv") if "wall_times" not in p.name
        )
        figures |= figures_of("smoke_avx2_vs_record", scaled_differences(smoke, record, tables))
    for key in sorted(figures):
        print(f"{key}: {figures[key]:.4g}")
    print(write_result("float_noise", figures))


if __name__ == "__main__":
    main()
