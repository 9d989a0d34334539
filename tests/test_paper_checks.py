"""What a reader of the paper would see (issue 27): the build's checks (overfull boxes, floats
too large, inverted marks, unreferenced labels), every table and figure referenced in the text,
one figure style with a minimum font size, the paper's names in tables, and sentences
generated in words (no "significant and negative on 0", no "239 of the 239")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cftrain.pipeline import booktabs
from cftrain.pipeline.reporting import compare, figures, latex, latexmk, macros, report, style

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "paper"
NOTEBOOKS = PAPER / "notebooks"
REPORTING = ROOT / "src" / "cftrain" / "pipeline" / "reporting"


# --- the build's checks ------------------------------------------------------------------


def test_check_log_fails_overfull_boxes_wider_than_a_point_and_floats_too_large(tmp_path: Path):
    log = tmp_path / "paper.log"
    log.write_text(
        "Overfull \\hbox (95.97908pt too wide) in alignment at lines 10--90\n"
        "Overfull \\hbox (0.5pt too wide) in paragraph at lines 3--4\n"
        "Overfull \\vbox (49.38603pt too high) has occurred while \\output is active\n"
        "LaTeX Warning: Float too large for page by 49.38603pt on input line 172.\n"
        "Underfull \\hbox (badness 10000) in paragraph at lines 1--2\n"
    )
    bad = latexmk.check_log(log)
    assert len(bad) == 3  # the 0.5 pt box is within the tolerance, underfull is not a fault
    assert any("95.97908pt" in line for line in bad)
    assert any("Float too large" in line for line in bad)
    assert latexmk.OVERFULL_TOLERANCE_PT == 1.0


def test_check_text_finds_inverted_marks_of_a_wrong_font_encoding():
    assert latexmk.check_text("Final evaluation\t< 1h\n") == []
    assert latexmk.check_text("Synthetic grids\t\u00a1 1h\nok\n") == ["Synthetic grids\t\u00a1 1h"]


def test_escape_takes_less_and_greater_than_from_the_math_font():
    assert booktabs.escape("< 1h") == "\\textless{} 1h"
    assert booktabs.escape("34 CPUs × 2 GB") == "34 CPUs $\\times$ 2 GB"
    table = latex.reported_compute_tabular(
        pd.DataFrame({"stage": ["a"], "resources": ["20 CPUs × 3 GB"], "reported": ["< 1h"]})
    )
    assert "<" not in table and "\\textless{}" in table
    reported = (REPORTING / "compute_reported.csv").read_text()
    assert " x " not in reported  # × stands for times, not the letter


def test_unreferenced_labels_are_those_of_the_aux_that_no_source_refers_to(tmp_path: Path):
    aux = tmp_path / "paper.aux"
    aux.write_text(
        "\\newlabel{tab:main}{{1}{3}}\n\\newlabel{fig:poc}{{1}{2}}\n"
        "\\newlabel{sec:setup}{{4}{4}}\n\\newlabel{LT@i}{{x}}\n\\newlabel{eq:ct@cref}{{1}}\n"
    )
    source = tmp_path / "a.tex"
    source.write_text("Table~\\ref{tab:main} and Sections~\\ref{sec:setup, fig:other}.\n")
    assert latexmk.unreferenced_labels(aux, [source]) == ["fig:poc"]


def _labels_and_refs() -> tuple[set[str], set[str]]:
    """Labels and references of the paper's sources and of the tables the report generates."""
    texts = [p.read_text() for p in PAPER.rglob("*.tex")]
    texts += [p.read_text() for p in REPORTING.glob("*.py")]  # labels of the long tables
    labels, refs = set(), set()
    for text in texts:
        labels |= set(re.findall(r"\\\\?label\{([a-z]+:[^}]+)\}", text))
        for group in re.findall(r"\\(?:[cC]?ref|eqref)\{([^}]+)\}", text):
            refs |= {r.strip() for r in group.split(",")}
    return labels, refs


def test_every_table_figure_and_section_label_is_referenced_in_the_text():
    labels, refs = _labels_and_refs()
    assert {"tab:main", "fig:poc", "tab:comparison", "tab:config", "fig:grid"} <= labels
    assert sorted(labels - refs) == []
    # every figure the registry can draw is included, labelled and referenced
    text = "\n".join(p.read_text() for p in PAPER.rglob("*.tex"))
    for name in figures.FIGURES:
        assert f"\\includegraphics{{{name}.pdf}}" in text, name


def test_figures_are_included_at_their_own_size():
    """A width given to \\includegraphics would scale the figure and its fonts."""
    text = "\n".join(p.read_text() for p in PAPER.rglob("*.tex"))
    assert re.findall(r"\\includegraphics\[", text) == []


# --- one figure style ----------------------------------------------------------------------


def test_the_figure_style_has_a_minimum_font_size_that_every_size_respects():
    assert style.MIN_FONT_PT >= 7
    for key, size in style.FONT_SIZES.items():
        assert size >= style.MIN_FONT_PT, key
    assert pytest.approx(16.0 / 2.54) == style.TEXT_WIDTH_IN  # paper.tex: A4, 2.5 cm margins
    assert "margin=2.5cm" in (PAPER / "paper.tex").read_text()


def test_every_notebook_draws_with_the_shared_style():
    notebooks = sorted(NOTEBOOKS.glob("*.py"))
    assert {p.stem for p in notebooks} >= set(figures.NOTEBOOKS)
    for path in notebooks:
        text = path.read_text()
        assert "style.use()" in text, path.name
        assert "fontsize=6" not in text and "fontsize=5" not in text, path.name
        assert "bbox_inches" not in text, path.name  # the figure's own size reaches the page


def test_style_check_refuses_small_fonts_and_figures_larger_than_the_text(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style.use()
    fig, ax = plt.subplots(figsize=style.size(1.0, 2.0))
    ax.set_title("readable")
    style.check(fig)
    ax.set_xlabel("tiny", fontsize=4)
    with pytest.raises(ValueError, match="minimum"):
        figures.save(fig, "ablation", tmp_path, ["ablation"])
    plt.close(fig)
    fig = plt.figure(figsize=(8.0, 3.0))
    with pytest.raises(ValueError, match="fit the page"):
        style.check(fig)
    plt.close(fig)


# --- names and sentences --------------------------------------------------------------------

CODE_NAMES = (
    "costs_unconstrained",
    "costs unconstrained",
    "fgsm_end",
    "fgsm_clean",
    "mmd",
    "lambda_clf",
    "lambda_div",
    "None",
)


def test_tables_use_the_papers_names_not_the_codes(tmp_path: Path):
    pub = compare.published()
    df = pub.rename(
        columns={"value": "published", "std": "published_std", "star": "published_star"}
    )
    df = df.assign(
        ours=df["published"],
        ours_star=df["published_star"],
        sign_agrees=True,
        star_agrees=True,
        n_seeds=1,
        seeds_mean=df["published"],
        seeds_std=0.0,
        n_seeds_agree=1,
    )
    text = latex.comparison_tabular(df) + latex.defaults_tabular()
    text += latex.config_tabular(
        {
            "scale": "paper",
            "single": {
                "datasets": ["moons"],
                "seeds": [0, 1, 2],
                "train": {"base": "final", "grid": {"objective": ["full", "vanilla"]}},
                "evaluation": {
                    "n_individuals": None,
                    "n_runs": None,
                    "protocols": {
                        "ecco": {"generator": "ECCo", "tau": None, "lambda_energy": [0.5]}
                    },
                },
                "tables": ["main", "costs_unconstrained"],
            },
        }
    )
    for name in CODE_NAMES:
        assert name not in text, name
    for model in ("full", "vanilla", "energy", "adversarial"):
        assert f"& {model} &" not in text, model
    assert "$\\IPstar$" in text and "$\\ldiv$" in text and "0--2" in text
    assert "\\begin{longtable}" in latex.config_tabular({"single": {"datasets": ["moons"]}})


def test_sentences_are_generated_in_words():
    rows = pd.DataFrame(
        {
            "dataset": ["lin_sep", "over", "mnist"],
            "value": [30.0, -0.4, -20.0],
            "star": [True, False, True],
        }
    )
    assert macros.significance_phrase(rows) == (
        "on 2 of the 3 datasets: a reduction on 1 and an increase on MNIST"
    )
    assert macros.significance_phrase(rows.assign(star=False)) == "on none of the 3 datasets"
    assert macros.significance_phrase(rows.assign(value=5.0)) == (
        "on 2 of the 3 datasets, each a reduction"
    )
    two = rows.iloc[:2].assign(star=True, value=3.0)
    assert macros.significance_phrase(two) == "on both datasets, each a reduction"
    assert macros.significance_phrase(rows.iloc[:1].assign(star=False)) == "on no dataset"
    assert macros.change_phrase(-4.94) == "an increase of 4.94\\,\\%"
    assert macros.change_phrase(18.37) == "a reduction of 18.37\\,\\%"
    assert macros.count_of(239, 239) == "all 239" and macros.count_of(78, 96) == "78 of the 96"
    assert macros.join_and(["LS", "OL", "CH"]) == "LS, OL and CH"
    ig = pd.DataFrame(
        {
            "dataset": ["lin_sep", "lin_sep", "cali", "cali"],
            "model": ["full", "vanilla"] * 2,
            "median": [0.1, 0.5, 0.3, 0.2],
            "ci_low": 0.0,
            "ci_high": 1.0,
        }
    )
    assert macros.ig_macros(ig)["igLowerPhrase"] == "on 1 of the 2 datasets, all but CH"
    assert macros.ig_macros(ig[ig["dataset"] == "cali"])["igLowerPhrase"] == "on no dataset"


def test_comparison_says_all_cells_and_whether_averages_are_comparable():
    df = pd.DataFrame({"dataset": ["moons", "Avg."], "ours": [1.0, 2.0]}).assign(
        table="main",
        published_star=1,
        sign_agrees=True,
        star_agrees=True,
        n_seeds=1,
        n_seeds_agree=1,
    )
    out = report.comparison_macros(df, {"single": ["moons"]})
    assert out["compareCellsPhrase"] == "both published cells"
    assert out["compareAvgNote"] == "Both averages are over the same 1 dataset."
    three = pd.concat([df, df.iloc[:1].assign(ours=None)], ignore_index=True)
    assert report.comparison_macros(three)["compareCellsPhrase"] == "2 of the 3 published cells"
    out = report.comparison_macros(df.assign(dataset=["circles", "Avg."]), {"single": ["moons"]})
    assert "not comparable" in out["compareAvgNote"]


def test_negative_macro_values_carry_a_minus_sign():
    text = macros.render({"gridWorstPlausibility": "-3.33", "ipReductionAvg": "18.37"}, "x")
    assert "\\newcommand{\\gridWorstPlausibility}{\\mbox{\\ensuremath{-}3.33}}" in text
    assert macros.fmt(-0.001) == "0.00"  # no "-0.00"


def test_data_summaries_of_the_configured_datasets_are_required(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"cftrain data moons"):
        report.data_summaries(tmp_path, {"single": ["moons"]})


# --- the paper's build ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs TeX Live (.ci/install-tex.sh)")
def test_build_fails_on_a_table_wider_than_the_page_and_an_unreferenced_figure(tmp_path: Path):
    tex = tmp_path / "doc.tex"
    wide = " & ".join(["a very wide column"] * 8)
    body = (
        "\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
        "See Table~\\ref{tab:a}.\\begin{table}\\caption{A}\\label{tab:a}"
        f"\\begin{{tabular}}{{{'l' * 8}}}{wide}\\\\\\end{{tabular}}\\end{{table}}"
        "\\begin{figure}\\caption{B}\\label{fig:b}\\end{figure}\\end{document}"
    )
    tex.write_text(body)
    with pytest.raises(latexmk.PaperBuildError, match="Overfull"):
        latexmk.build_pdf(tex, tmp_path / "doc.pdf", [], tmp_path / "build")
    tex.write_text(body.replace(wide, "narrow"))
    with pytest.raises(latexmk.PaperBuildError, match="fig:b"):
        latexmk.build_pdf(tex, tmp_path / "doc.pdf", [], tmp_path / "build2")
    tex.write_text(body.replace(wide, "narrow").replace("Table~", "Figure~\\ref{fig:b}, Table~"))
    assert latexmk.build_pdf(tex, tmp_path / "doc.pdf", [], tmp_path / "build3").is_file()
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "doc.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "narrow" in text
