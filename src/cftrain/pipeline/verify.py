"""``verify``: every table cell of a run against the committed record (issue 24).

The workflow's last rule compares each aggregated table of the run (``results[/<scale>]/
<experiment>/tables/<name>.csv`` and ``tables/main.csv``) with the same file of the record
(``record[/<scale>]/…``). Rows are matched on their key columns (every column that is not a
result, :data:`VALUE_COLUMNS`); each result cell of a matched row is

* ``equal``: the same text in both CSVs (pandas writes floats round-trip, so the same bits);
* ``within``: numerically within the tolerance, ``|run − record| ≤ rtol·max(|record|, m)``,
  with ``rtol`` of the column's class (:data:`COLUMN_CLASS`, :data:`TOLERANCE`) and ``m`` the
  median magnitude of the column in the record's table (so a value near zero, e.g. an interval
  bound, is compared at the scale of its column);
* ``different``: anything else, and always a reduction whose star or sign differs from the
  record's (a *flip*), even within the tolerance.

The tolerance is zero (exact) when the run is on the record's machine: the same
:func:`cftrain.pipeline.job_context.machine` (torch and NumPy versions, CPU and its SIMD
kernels), as ``record/provenance.json`` names it; otherwise it is :data:`TOLERANCE`, chosen from
the float noise measured across CPUs and threads (``benchmarks/results/float_noise.json``,
docs/record.md). Rows of the record that the run does not have (other seeds, datasets or
experiments) and rows the record lacks are counted, not compared, and never fail a run.

Writes ``report.csv`` (per table), ``report.md`` (the same and the largest differences),
``differences.csv`` (every cell that is not equal) and ``report.json`` (totals, the mode, and
the sentence the paper prints, :func:`sentence`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cftrain.atomic import atomic_path

#: columns holding results; every other column of a table is a key (identifies its row)
VALUE_COLUMNS = frozenset(
    {
        "accuracy",
        "accuracy_drop",
        "baseline_mean",
        "bl_mean",
        "ci_high",
        "ci_low",
        "clean_accuracy",
        "cost",
        "cost_mean",
        "ct_mean",
        "ip",
        "mean",
        "median",
        "mmd",
        "mmd_mean",
        "n_cells",
        "n_dropped_runs",
        "n_rounds",
        "n_runs",
        "n_undefined_ratios",
        "n_values",
        "onehot_valid",
        "plausibility_mean",
        "plausibility_std",
        "reduction",
        "star",
        "std",
        "validity",
        "value",
    }
)
#: % reductions (CT or an ablation objective against BL): their sign is always checked
REDUCTION_COLUMNS = frozenset({"value", "reduction"})
STAR_COLUMN = "star"
#: result column → its tolerance class; any other result column is ``central``. ``stable``:
#: accuracies, validities, the baseline's means and counts, which float noise barely moves;
#: ``spread``: standard deviations and interval bounds; ``central``: CT's (and CD's, AR's)
#: means, medians and reductions, which move with CT's training trajectory
COLUMN_CLASS = {
    **dict.fromkeys(
        (
            "accuracy",
            "clean_accuracy",
            "validity",
            "onehot_valid",
            "bl_mean",
            "baseline_mean",
            "n_runs",
            "n_dropped_runs",
            "n_undefined_ratios",
            "n_rounds",
            "n_cells",
            "n_values",
        ),
        "stable",
    ),
    **dict.fromkeys(("std", "ci_low", "ci_high", "plausibility_std"), "spread"),
}
#: relative tolerance per class off the record's machine: about twice the largest difference
#: measured between CPUs and thread counts (docs/record.md, benchmarks/results/float_noise.json)
TOLERANCE = {"stable": 0.02, "central": 0.5, "spread": 1.0}
EXACT = dict.fromkeys(TOLERANCE, 0.0)
#: fields of :func:`cftrain.pipeline.job_context.machine` that must agree for exactness
MACHINE_FIELDS = ("torch", "numpy", "cpu_capability", "cpu", "arch")
STATUSES = ("equal", "within", "different")
SHOWN = 20  # largest differences listed in report.md


def read_table(path: str | Path) -> pd.DataFrame:
    """A table CSV as text (cells compared as written; empty cells are ``""``)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def key_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in VALUE_COLUMNS]


def _number(text: str) -> float:
    if text in ("", "nan", "NaN"):
        return math.nan
    if text in ("True", "False"):
        return float(text == "True")
    try:
        return float(text)
    except ValueError:
        return math.nan


def _sign(x: float) -> int:
    return 0 if x == 0 or math.isnan(x) else (1 if x > 0 else -1)


def compare_cell(
    column: str, run: str, record: str, tolerance: Mapping[str, float], scale: float = 0.0
) -> dict[str, Any]:
    """One cell: its status, differences, and whether a star or a reduction's sign flipped.
    ``tolerance``: class → relative tolerance; ``scale``: the column's median magnitude."""
    a, b = _number(run), _number(record)
    diff = abs(a - b) if not (math.isnan(a) or math.isnan(b)) else math.nan
    rel = diff / abs(b) if b and not math.isnan(diff) else (0.0 if diff == 0 else math.inf)
    flip = ""
    if column == STAR_COLUMN and run != record:
        flip = "star"
    elif column in REDUCTION_COLUMNS and _sign(a) != _sign(b):
        flip = "sign"
    if run == record:
        status = "equal"
    elif flip or math.isnan(diff):  # a flip, or a value only one of them has
        status = "different"
    elif diff <= tolerance[COLUMN_CLASS.get(column, "central")] * max(abs(b), scale):
        status = "within"
    else:
        status = "different"
    return {
        "status": status,
        "abs_diff": diff,
        "rel_diff": rel if not math.isnan(diff) else math.nan,
        "flip": flip,
    }


def compare_table(
    run: pd.DataFrame, record: pd.DataFrame, tolerance: Mapping[str, float], name: str = ""
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(summary, cells that are not equal) of one table against its record. A result column
    that only one of them has (a column added by a newer version of the code) is named in the
    summary and not compared; different key columns make the rows incomparable: an error."""
    keys = key_columns(record)
    if key_columns(run) != keys:
        raise ValueError(f"{name}: key columns {key_columns(run)} differ from the record's {keys}")
    for frame, who in ((run, "run"), (record, "record")):
        if frame.duplicated(keys).any():
            raise ValueError(f"{name}: the {who}'s rows are not unique on {keys}")
    values = [c for c in record.columns if c in VALUE_COLUMNS and c in run.columns]
    scales = {c: _median_magnitude(record[c]) for c in values}
    merged = run.merge(record, on=keys, how="outer", suffixes=("_run", "_rec"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    cells = []
    counts = dict.fromkeys(STATUSES, 0)
    for _, row in both.iterrows():
        for column in values:
            cell = compare_cell(
                column, row[f"{column}_run"], row[f"{column}_rec"], tolerance, scales[column]
            )
            counts[cell["status"]] += 1
            if cell["status"] != "equal":
                where = {k: row[k] for k in keys}
                cells.append(
                    {
                        "table": name,
                        "row": ", ".join(f"{k}={v}" for k, v in where.items()),
                        "column": column,
                        "record": row[f"{column}_rec"],
                        "run": row[f"{column}_run"],
                        **cell,
                    }
                )
    differences = pd.DataFrame(
        cells,
        columns=[
            "table",
            "row",
            "column",
            "record",
            "run",
            "status",
            "abs_diff",
            "rel_diff",
            "flip",
        ],
    )
    numeric = differences[differences["abs_diff"].notna()]
    summary = {
        "table": name,
        "rows_run": len(run),
        "rows_record": len(record),
        "rows_compared": len(both),
        "rows_not_run": int((merged["_merge"] == "right_only").sum()),
        "rows_not_in_record": int((merged["_merge"] == "left_only").sum()),
        "columns_not_in_record": " ".join(c for c in run.columns if c not in record.columns),
        "columns_not_run": " ".join(c for c in record.columns if c not in run.columns),
        "cells": sum(counts.values()),
        **counts,
        "flips": int((differences["flip"] != "").sum()),
        "max_abs_diff": float(numeric["abs_diff"].max()) if len(numeric) else 0.0,
        "max_rel_diff": float(numeric["rel_diff"].replace(math.inf, math.nan).max())
        if len(numeric) and numeric["rel_diff"].replace(math.inf, math.nan).notna().any()
        else 0.0,
    }
    summary["status"] = (
        "different" if counts["different"] else "within" if counts["within"] else "equal"
    )
    return summary, differences


def _median_magnitude(texts: pd.Series) -> float:
    values = [abs(v) for v in map(_number, texts) if not math.isnan(v)]
    return float(pd.Series(values).median()) if values else 0.0


def same_machine(run: Mapping[str, Any] | None, record: Mapping[str, Any] | None) -> tuple:
    """(exact?, why): exact when both machines are known and agree on :data:`MACHINE_FIELDS`."""
    if not record:
        return False, "the record does not name its machine"
    if not run:
        return False, "this run's machine is unknown"
    differ = [f for f in MACHINE_FIELDS if run.get(f) != record.get(f)]
    if differ:
        shown = ", ".join(f"{f} {run.get(f)} (record: {record.get(f)})" for f in differ)
        return False, f"not on the record's machine: {shown}"
    return True, "on the record's machine and torch version"


def verify_tables(
    run_root: str | Path,
    record_root: str | Path,
    tables: Sequence[str | Path],
    run_machine: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Compare each of the run's ``tables`` (paths under ``run_root``) with the record's file
    at the same relative path; returns the outcome (summaries, differences, mode, totals)."""
    run_root, record_root = Path(run_root), Path(record_root)
    provenance = record_root / "provenance.json"
    record_machine = (
        json.loads(provenance.read_text()).get("machine") if provenance.is_file() else None
    )
    exact, why = same_machine(run_machine, record_machine)
    tolerance = EXACT if exact else TOLERANCE
    summaries, differences = [], []
    for path in map(Path, tables):
        name = path.relative_to(run_root).as_posix()
        recorded = record_root / name
        if not recorded.is_file():
            summaries.append({"table": name, "status": "not_in_record", "rows_run": None})
            continue
        summary, cells = compare_table(read_table(path), read_table(recorded), tolerance, name)
        summaries.append(summary)
        differences.append(cells)
    frame = pd.DataFrame(summaries)
    cells = pd.concat(differences, ignore_index=True) if differences else pd.DataFrame()
    totals = {s: int(frame[s].fillna(0).sum()) if s in frame else 0 for s in (*STATUSES, "flips")}
    totals["cells"] = sum(totals[s] for s in STATUSES)
    totals["tables_compared"] = int((frame["status"] != "not_in_record").sum())
    totals["tables_not_in_record"] = int((frame["status"] == "not_in_record").sum())
    return {
        "record": str(record_root),
        "exact": exact,
        "why": why,
        "tolerance": dict(tolerance),
        "machine": dict(run_machine or {}),
        "record_machine": record_machine,
        "totals": totals,
        "passed": totals["different"] == 0 and totals["flips"] == 0,
        "summaries": frame,
        "differences": cells,
    }


def sentence(outcome: Mapping[str, Any]) -> str:
    """The paper's one sentence on the outcome (LaTeX; numbers from the report)."""
    t = outcome["totals"]
    record = outcome["record_label"]
    if not t["tables_compared"]:
        return f"No table of this run has a committed record to be checked against ({record})."
    if outcome["exact"]:
        how = "exactly, since this run used the record's machine and torch version"
        counts = f"{t['equal']:,} are equal and {t['different']:,} differ"
    else:
        how = (
            "within the tolerance of docs/record.md, since this run did not use the record's "
            "machine"
        )
        counts = (
            f"{t['equal']:,} are equal, {t['within']:,} within the tolerance and "
            f"{t['different']:,} different"
        )
    flips = t["flips"]
    flipped = (
        "no reduction changes its star or sign"
        if not flips
        else f"{flips:,} reduction{'s change' if flips != 1 else ' changes'} star or sign"
    )
    return (
        f"Checked cell by cell against the committed record ({record}), {how}: of the "
        f"{t['cells']:,} table cells they share, {counts}, and {flipped}."
    )


def summary_line(outcome: Mapping[str, Any]) -> str:
    t = outcome["totals"]
    return (
        f"verify against {outcome['record']} ({'exact' if outcome['exact'] else 'tolerance'}): "
        f"{t['cells']} cells, {t['equal']} equal, {t['within']} within tolerance, "
        f"{t['different']} different, {t['flips']} star/sign flips; "
        f"{t['tables_not_in_record']} tables not in the record"
    )


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.3g}"
    return str(value).replace("|", "\\|")


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)\n"
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(_text(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join(lines) + "\n"


def write_report(outcome: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    """``report.csv``, ``report.md``, ``differences.csv`` and ``report.json`` in ``out_dir``."""
    out = Path(out_dir)
    summaries, cells = outcome["summaries"], outcome["differences"]
    written = []
    with atomic_path(out / "report.csv") as tmp:
        summaries.to_csv(tmp, index=False)
    written.append(out / "report.csv")
    with atomic_path(out / "differences.csv") as tmp:
        cells.to_csv(tmp, index=False)
    written.append(out / "differences.csv")
    largest = cells
    if not cells.empty:
        largest = cells.assign(_flip=cells["flip"] != "").sort_values(
            ["_flip", "rel_diff", "abs_diff"], ascending=False, na_position="first"
        )
        largest = largest.drop(columns="_flip").head(SHOWN)
    tol = outcome["tolerance"]
    md = [
        "# verify: this run against the committed record\n",
        f"{summary_line(outcome)}.\n",
        f"Mode: {'exact' if outcome['exact'] else 'tolerance'} ({outcome['why']}); relative "
        f"tolerance by column class {', '.join(f'{k} {v:g}' for k, v in tol.items())}. "
        f"Result: {'passed' if outcome['passed'] else 'DIFFERENT'}.\n",
        "## Per table\n",
        _markdown_table(summaries),
        f"## Largest differences (of {len(cells)} cells that are not equal)\n",
        _markdown_table(largest),
    ]
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text("\n".join(md))
    written.append(out / "report.md")
    record = {k: v for k, v in outcome.items() if k not in ("summaries", "differences")}
    with atomic_path(out / "report.json") as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    written.append(out / "report.json")
    return written


def verify_run(
    run_root: str | Path,
    record_root: str | Path,
    tables: Sequence[str | Path],
    out_dir: str | Path,
    run_machine: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`verify_tables` with this machine (unless given), then :func:`write_report`."""
    if run_machine is None:
        from cftrain.pipeline.job_context import machine

        run_machine = machine()
    outcome = verify_tables(run_root, record_root, tables, run_machine)
    outcome["record_label"] = _record_label(record_root)
    outcome["sentence"] = sentence(outcome)
    write_report(outcome, out_dir)
    return outcome


def _record_label(record_root: str | Path) -> str:
    """``\\texttt{record/smoke/}``: the record's folder as the repository names it."""
    parts = Path(record_root).resolve().parts
    last = len(parts) - 1 - parts[::-1].index("record") if "record" in parts else len(parts) - 1
    inside = parts[last:]
    return "\\texttt{" + "/".join(inside) + "/}"
