"""The paper built by the smoke workflow (issue 15): the PDF, its inputs, and a rebuild after
a result changes. One smoke run is shared by every test here (and every xdist worker)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cftrain.pipeline import config as cfg
from cftrain.pipeline import paths
from cftrain.pipeline.reporting import figures, tables
from cftrain.pipeline.reporting.report import FROM_RECORD
from workflow_helpers import ROOT, SMOKE, SMOKE_ROOT, snakemake

# the same xdist group as the workflow tests: one worker runs the shared smoke runs once
pytestmark = pytest.mark.xdist_group("workflow_smoke")


@pytest.fixture(scope="session")
def smoke(smoke_runs: dict) -> Path:
    """The working directory of the complete, uninterrupted smoke run (conftest)."""
    return smoke_runs["a"]


def _snakemake(workdir: Path, *args: str, repo: Path) -> subprocess.CompletedProcess:
    """The smoke workflow of ``repo`` (the clone of the smoke run, whose absolute paths, e.g.
    of the notebooks, its Snakemake metadata records) run in ``workdir``."""
    return snakemake(workdir, "--cores", "2", *SMOKE, *args, repo=repo)


def _pdf_text(pdf: Path) -> str:
    """The PDF's text, minus signs read as hyphens (the tables print −0.39, not -0.39)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    return text.replace("\u2212", "-")


def _smoke_datasets() -> dict[str, list[str]]:
    """experiment → datasets of the smoke configuration, resolved as the Snakefile does."""
    conf = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    _, experiments = cfg.resolve({**conf, "scale": "smoke"}, ROOT)
    return {name: e.datasets for name, e in experiments.items()}


def test_smoke_pdf_has_pages_and_the_main_table_numbers(smoke: Path):
    pdf = smoke / SMOKE_ROOT / "paper" / "paper.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 1
    text = _pdf_text(pdf)
    main = tables.paper_rows(pd.read_csv(tables.table_path(smoke / SMOKE_ROOT, "single", "main")))
    values = main[(main["dataset"] != "Avg.") & main["value"].notna()]["value"]
    assert len(values) > 0
    for value in values:
        assert f"{value:.2f}" in text


def test_every_input_and_figure_of_the_paper_exists(smoke: Path):
    sources = sorted((ROOT / "paper").rglob("*.tex"))
    generated = smoke / SMOKE_ROOT / "paper" / "generated"
    figdir = smoke / SMOKE_ROOT / "figures"
    text = "\n".join(p.read_text() for p in sources)
    inputs = re.findall(r"\\input\{([^}]+)\}", text)
    assert inputs
    for name in inputs:
        stem = name if name.endswith(".tex") else f"{name}.tex"
        assert (ROOT / "paper" / stem).is_file() or (generated / stem).is_file(), name
    graphics = set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", text))
    expected = set(figures.expected(_smoke_datasets()))
    assert expected, "the smoke configuration draws figures"
    # every figure the DAG draws is in the paper, and every figure the paper reads exists
    assert {f"{name}.pdf" for name in expected} <= graphics
    recorded = (smoke / SMOKE_ROOT / "paper" / "build" / "paper.fls").read_text()
    read = set(re.findall(r"INPUT .*/([^/\s]+\.pdf)\s*$", recorded, flags=re.M))
    for name in graphics:
        if Path(name).stem in expected:
            assert (figdir / name).is_file(), name
            assert name in read, name
        else:  # a figure of an experiment the smoke run does not have: not read
            assert name not in read, name
    assert {p.name for p in figdir.iterdir()} == {
        str(p.name) for p in figures.figure_paths(figdir, expected)
    }


def _planned_rules(workdir: Path, repo: Path) -> tuple[set[str], str]:
    proc = _snakemake(workdir, "--dry-run", repo=repo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    return set(re.findall(r"^\s*(?:local)?(?:rule|checkpoint) (\w+):", out, flags=re.M)), out


def test_a_changed_result_reaches_the_pdf_and_reruns_only_its_dependants(
    smoke: Path, tmp_path: Path
):
    work = tmp_path / "work"
    shutil.copytree(smoke, work, symlinks=True)
    path = tables.table_path(work / SMOKE_ROOT, "single", "main")
    table = pd.read_csv(path)
    row = table.index[(table["dataset"] != "Avg.") & (table["metric"] == "ip")][0]
    table.loc[row, "value"] = 87.654321
    table.to_csv(path, index=False)
    assert "87.65" not in _pdf_text(work / SMOKE_ROOT / "paper" / "paper.pdf")

    planned, plan = _planned_rules(work, repo=smoke)
    assert {"report", "paper", "figures_main_results", "verify"} <= planned
    allowed = {"report", "paper", "figures_main_results", "main_table", "verify", "all"}
    assert planned <= allowed, plan[-6000:]

    proc = _snakemake(work, repo=smoke)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "87.65" in _pdf_text(work / SMOKE_ROOT / "paper" / "paper.pdf")
    macros = (work / SMOKE_ROOT / "paper" / "generated" / "macros.tex").read_text()
    assert "{87.65}" in macros
    # verify reports the changed cell (in single's table and in the main table made from it),
    # and the paper's sentence says so
    differences = pd.read_csv(work / SMOKE_ROOT / "verify" / "differences.csv")
    assert sorted(differences[["table", "column", "run"]].values.tolist()) == [
        ["single/tables/main.csv", "value", 87.654321],
        ["tables/main.csv", "value", 87.654321],
    ]
    assert "and 2 differ" in macros


def test_the_paper_builds_from_the_committed_record_alone(tmp_path: Path):
    """`make paper-from-record` (paper_from=record): no training, evaluation or aggregation,
    only the report and latexmk, from record/'s tables and figures; the PDF carries the
    record's main-table numbers and says it was built from the record."""
    run = snakemake(tmp_path, "--cores", "2", "--config", "paper_from=record")
    assert run.returncode == 0, run.stderr[-3000:]
    ran = set(re.findall(r"^\s*(?:local)?rule (\w+):", run.stdout + run.stderr, flags=re.M))
    assert ran == {"report", "paper", "all"}
    out = paths.Layout(f"{paths.root('paper')}/from_record")
    text = _pdf_text(tmp_path / out.path("paper"))
    record = paths.Layout(str(ROOT / paths.record_root("paper")))
    main = tables.paper_rows(pd.read_csv(tables.table_path(record.root, "single", "main")))
    values = main[(main["dataset"] != "Avg.") & main["value"].notna()]["value"]
    assert len(values) == 18  # IP and IP* on nine datasets
    for value in values:
        assert f"{value:.2f}" in text
    macros = (tmp_path / out.path("generated", name="macros.tex")).read_text()
    assert FROM_RECORD in macros
    assert not (tmp_path / "results" / "single").exists()
