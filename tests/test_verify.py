"""verify (issue 24): a run's tables compared cell by cell with the committed record.

The inputs are the committed smoke record's own tables (record/smoke/), copied and edited."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cftrain.pipeline import cli, verify
from workflow_helpers import ROOT

RECORD = ROOT / "record" / "smoke"
MAIN = "single/tables/main.csv"


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """(run, record): two copies of the smoke record; the run's is edited by the tests."""
    run, record = tmp_path / "run", tmp_path / "record"
    shutil.copytree(RECORD, run)
    shutil.copytree(RECORD, record)
    return run, record


def _tables(run: Path) -> list[Path]:
    return sorted(p for p in run.rglob("*.csv") if "wall_times" not in p.name)


def _recorded_machine() -> dict:
    return json.loads((RECORD / "provenance.json").read_text())["machine"]


def _edit(path: Path, column: str, row: int, value) -> tuple[str, str]:
    """Set one cell of a table CSV (text kept as written elsewhere); (before, after)."""
    frame = verify.read_table(path)
    before = frame.loc[row, column]
    frame.loc[row, column] = str(value)
    frame.to_csv(path, index=False)
    return before, str(value)


def _verify(run: Path, record: Path, out: Path, **machine) -> dict:
    return verify.verify_run(
        run, record, _tables(run), out, run_machine={**_recorded_machine(), **machine}
    )


def test_the_record_against_itself_is_equal_in_every_cell(roots, tmp_path):
    run, record = roots
    outcome = _verify(run, record, tmp_path / "out")
    totals = outcome["totals"]
    assert outcome["exact"] and outcome["passed"]
    assert totals["equal"] == totals["cells"] > 500 and totals["tables_compared"] == 16
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert written == {"report.csv", "report.md", "report.json", "differences.csv"}
    assert "0 differ" in outcome["sentence"] and "no reduction changes" in outcome["sentence"]


def test_one_changed_cell_is_reported_and_nothing_else(roots, tmp_path):
    run, record = roots
    frame = verify.read_table(run / MAIN)
    row = int(frame.index[(frame["dataset"] == "moons") & (frame["metric"] == "ip")][0])
    before, after = _edit(run / MAIN, "ct_mean", row, float(frame.loc[row, "ct_mean"]) * 1.0001)
    outcome = _verify(run, record, tmp_path / "out")
    cells = outcome["differences"]
    assert len(cells) == 1
    cell = cells.iloc[0]
    assert (cell["table"], cell["column"], cell["record"], cell["run"]) == (
        MAIN,
        "ct_mean",
        before,
        after,
    )
    assert "dataset=moons" in cell["row"] and "metric=ip" in cell["row"]
    assert cell["status"] == "different"  # exact on the record's machine
    assert outcome["totals"]["different"] == 1 and not outcome["passed"]
    summary = outcome["summaries"].set_index("table")
    assert summary.loc[MAIN, "different"] == 1 and summary.loc[MAIN, "status"] == "different"
    assert set(summary.drop(index=MAIN)["status"]) == {"equal"}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "ct_mean" in report and "DIFFERENT" in report

    # the same change off the record's machine is within the tolerance
    outcome = _verify(run, record, tmp_path / "out2", cpu="another CPU")
    assert not outcome["exact"] and "cpu another CPU" in outcome["why"]
    assert outcome["differences"].iloc[0]["status"] == "within" and outcome["passed"]


def test_a_changed_star_or_sign_is_reported_even_within_tolerance(roots, tmp_path):
    run, record = roots
    frame = verify.read_table(run / MAIN)
    row = int(frame.index[frame["star"] == "True"][0])
    value = float(frame.loc[row, "value"])
    _edit(run / MAIN, "value", row, value * 1.001)  # within the tolerance
    _edit(run / MAIN, "star", row, "False")
    outcome = _verify(run, record, tmp_path / "out", cpu="another CPU")
    cells = outcome["differences"].set_index("column")
    assert cells.loc["value", "status"] == "within" and cells.loc["value", "flip"] == ""
    assert cells.loc["star", "status"] == "different" and cells.loc["star", "flip"] == "star"
    assert outcome["totals"]["flips"] == 1 and not outcome["passed"]
    assert "1 reduction changes star or sign" in outcome["sentence"]
    # a reduction that changes sign by a hair, within the tolerance at its column's scale,
    # is reported too
    assert verify.compare_cell("value", "-0.001", "0.001", verify.TOLERANCE, scale=1.0) == {
        "status": "different",
        "abs_diff": pytest.approx(0.002),
        "rel_diff": pytest.approx(2.0),
        "flip": "sign",
    }


def test_rows_missing_from_the_run_or_the_record_are_counted_not_failed(roots, tmp_path):
    run, record = roots
    frame = verify.read_table(run / MAIN)
    kept = frame[frame["dataset"] != "lin_sep"]
    extra = frame[frame["dataset"] == "moons"].assign(seed="1")
    pd.concat([kept, extra]).to_csv(run / MAIN, index=False)
    (run / "ablation" / "tables" / "robustness.csv").unlink()  # a table this run lacks
    outcome = _verify(run, record, tmp_path / "out")
    summary = outcome["summaries"].set_index("table").loc[MAIN]
    assert summary["rows_not_run"] == (frame["dataset"] == "lin_sep").sum()
    assert summary["rows_not_in_record"] == len(extra)
    assert summary["status"] == "equal" and outcome["passed"]
    new = run / "tune" / "tables" / "grid.csv"  # a table the record does not have
    new.parent.mkdir(parents=True)
    shutil.copy(run / MAIN, new)
    outcome = verify.verify_run(run, record, [new], tmp_path / "out3", _recorded_machine())
    assert outcome["totals"]["tables_not_in_record"] == 1 and outcome["passed"]


def test_strict_mode_fails_the_command_and_report_mode_does_not(roots, tmp_path, capsys):
    run, record = roots
    frame = verify.read_table(run / MAIN)
    _edit(run / MAIN, "value", 0, float(frame.loc[0, "value"]) + 50)
    args = ["verify", "--run", str(run), "--record", str(record), "--out", str(tmp_path / "o")]
    args += ["--tables", *map(str, _tables(run))]
    cli.main(args)  # report (default): exit 0
    assert "1 different" in capsys.readouterr().out
    with pytest.raises(SystemExit) as failed:
        cli.main([*args, "--mode", "strict"])
    assert "cftrain verify (strict)" in str(failed.value) and "1 different" in str(failed.value)


def test_machines_agree_only_on_every_field_and_an_unknown_one_is_not_exact():
    machine = _recorded_machine()
    assert verify.same_machine(machine, dict(machine))[0]
    assert not verify.same_machine({**machine, "torch": "2.99"}, machine)[0]
    assert verify.same_machine(machine, None) == (False, "the record does not name its machine")


def test_a_table_whose_rows_are_not_unique_on_its_keys_is_an_error(roots):
    _, record = roots
    frame = verify.read_table(record / MAIN)
    with pytest.raises(ValueError, match="not unique"):
        verify.compare_table(pd.concat([frame, frame.head(1)]), frame, verify.EXACT, MAIN)


def test_a_result_column_only_one_side_has_is_named_and_the_others_compared(roots):
    """A newer code version's extra column (the ablation's spread, issue 27) does not stop the
    check: it is listed, the shared columns are compared; other key columns are an error."""
    _, record = roots
    frame = verify.read_table(record / MAIN).drop(columns="std")
    newer = verify.read_table(record / MAIN)
    newer.loc[0, "value"] = "999.0"
    summary, cells = verify.compare_table(newer, frame, verify.EXACT, MAIN)
    assert summary["columns_not_in_record"] == "std" and summary["columns_not_run"] == ""
    assert summary["different"] == 1 and list(cells["column"]) == ["value"]
    back, _ = verify.compare_table(frame, newer, verify.EXACT, MAIN)
    assert back["columns_not_run"] == "std" and back["columns_not_in_record"] == ""
    with pytest.raises(ValueError, match="key columns"):
        verify.compare_table(frame.assign(extra_key="x"), frame, verify.EXACT, MAIN)
