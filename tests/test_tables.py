"""Aggregated tables of the workflow: hand-computed values, CSV + LaTeX twins, wall times."""

from __future__ import annotations

import pandas as pd

from cftrain.pipeline import artifacts
from cftrain.pipeline.tables import (
    aggregate,
    display,
    to_latex,
    wall_times,
    wall_times_per_rule,
    write_table,
)


def _evaluations(path) -> str:
    """Two runs, one λ_egy, CT and BL: CT's IP is half of BL's in both runs."""
    rows = []
    for run, (ct, bl) in enumerate([(1.0, 2.0), (2.0, 4.0)]):
        for model, ip in (("full", ct), ("vanilla", bl)):
            rows.append(
                {
                    "experiment": "single",
                    "dataset": "moons",
                    "protocol": "ecco",
                    "group": "all",
                    "seed": 0,
                    "model": model,
                    "run": run,
                    "lambda_energy": 1.0,
                    "validity": True,
                    "ip": ip,
                    "mmd": 0.1,
                    "cost": 3.0,
                }
            )
    frame = pd.DataFrame(rows)
    where = {"experiment": "single", "dataset": "moons", "group": "all", "protocol": "ecco"}
    artifacts.stamp(frame, {**where, "seed": 0})  # the digest its reader checks
    frame.to_parquet(path / "eval.parquet")
    return str(path / "eval.parquet")


def test_main_table_values_and_its_latex_twin(tmp_path):
    options = {"treatment": "full", "baseline": "vanilla", "metrics": ["ip"], "datasets": ["moons"]}
    written = aggregate(["main"], {"evaluations": [_evaluations(tmp_path)]}, options, tmp_path)
    assert [p.name for p in written] == ["main.csv", "main.tex"]
    tidy = pd.read_csv(tmp_path / "main.csv")
    moons = tidy[tidy["dataset"] == "moons"].iloc[0]
    assert moons["value"] == 50.0 and moons["std"] == 0.0 and bool(moons["star"])
    assert (moons["ct_mean"], moons["bl_mean"]) == (1.5, 3.0)
    tex = (tmp_path / "main.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"moons & 50.00 $\pm$ 0.00* \\" in tex
    assert r"Avg. & 50.00 \\" in tex  # the average carries no star


def test_latex_escapes_names():
    frame = display("accuracy", pd.DataFrame({"dataset": ["lin_sep"], "seed": [0],
                                              "model": ["full"], "accuracy": [0.5]}))  # fmt: skip
    assert r"lin\_sep & 0.50 \\" in to_latex(frame)


def test_written_table_escapes_text_and_writes_minus_signs(tmp_path):
    """One writer for the workflow's tables and the paper's (pipeline.booktabs): special
    characters escaped, a negative number's hyphen a minus sign, booktabs rules."""
    tidy = pd.DataFrame(
        {
            "rule": ["a_b & c% #1 < 2 > 0", "λ ± 1 − 2"],
            "seconds": [-1.5, 2.0],
            "note": ["-", "x-1 1e-05 [-0.2, 0.3]"],
        }
    )
    csv, tex = write_table("wall_times", tidy, tmp_path / "t")
    assert pd.read_csv(csv).equals(tidy)
    text = tex.read_text()
    assert text.startswith("\\begin{tabular}{lrl}\n\\toprule\n")
    assert "rule & seconds & note \\\\\n\\midrule\n" in text
    assert r"a\_b \& c\% \#1 \textless{} 2 \textgreater{} 0 & \ensuremath{-}1.5 & - \\" in text
    assert r"$\lambda$ $\pm$ 1 \ensuremath{-} 2 & 2 & x-1 1e-05 [\ensuremath{-}0.2, 0.3] \\" in text
    assert text.endswith("\\bottomrule\n\\end{tabular}\n")


def test_wall_times_sum_the_benchmark_files_per_rule(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {
        "train/single/moons/a/seed0.tsv": 2.0,
        "train/single/moons/b/seed0.tsv": 4.0,
        "train/single/adult/a/seed0.tsv": 3.0,
        "ig/mutability/moons.tsv": 1.5,
    }
    for rel, seconds in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(
            header + f"{seconds}\t0:00:0{seconds:.0f}\t100\t0\t0\t0\t0\t0\t0\t0\n"
        )
    detail = wall_times([tmp_path / r for r in files], tmp_path)
    moons = detail.set_index(["rule", "experiment", "dataset"]).loc[("train", "single", "moons")]
    assert moons["jobs"] == 2 and moons["total_seconds"] == 6.0 and moons["max_seconds"] == 4.0
    assert set(detail["dataset"]) == {"moons", "adult"}
    table = wall_times_per_rule(detail).set_index("rule")
    assert table.loc["train", "jobs"] == 3 and table.loc["train", "total_seconds"] == 9.0
    assert table.loc["train", "max_seconds"] == 4.0 and table.loc["ig", "mean_seconds"] == 1.5
