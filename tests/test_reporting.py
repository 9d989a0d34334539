"""The report library (issue 15): macro names and values, tables, comparison, figure
registry, notebook execution, the LaTeX log check and the hand-typed-number scanner."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from cftrain.pipeline.reporting import (
    compare,
    figures,
    latex,
    macros,
    names,
    notebook,
    report,
    style,
    tables,
)
from cftrain.pipeline.reporting.handtyped import hand_typed_numbers, scan
from cftrain.pipeline.reporting.latexmk import check_log

PAPER = Path(__file__).resolve().parents[1] / "paper"


def _reduction_rows(experiment: str, rows: list[tuple]) -> pd.DataFrame:
    """A reduction table as the aggregation returns it (dataset, metric, value, std, star)."""
    cols = ["dataset", "metric", "value", "std", "star"]
    df = pd.DataFrame(rows, columns=cols)
    return df.assign(
        experiment=experiment,
        n_runs=5,
        n_dropped_runs=0,
        ci_low=-1.0,
        ci_high=1.0,
        ct_mean=1.0,
        bl_mean=2.0,
    )


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A results tree with hand-written main tables of ``single`` and ``mutability``."""
    single = _reduction_rows(
        "single",
        [
            ("circles", "ip", 58.876, 0.37, True),
            ("circles", "mmd", -3.0, 9.0, False),
            ("moons", "ip", -19.594, 0.73, True),
            ("moons", "mmd", 8.0, 9.44, False),
            ("Avg.", "ip", 19.641, math.nan, math.nan),
            ("Avg.", "mmd", 2.5, math.nan, math.nan),
        ],
    )
    mutability = _reduction_rows(
        "mutability",
        [("circles", "cost", 42.99, 0.85, True), ("moons", "cost", 5.0, 1.0, False)],
    )
    costs = _reduction_rows("single", [("circles", "cost", 40.0, 1.0, True)])
    validity = pd.DataFrame(
        {"dataset": ["circles", "circles"], "model": ["full", "vanilla"], "validity": [1.0, 0.5]}
    )
    ig = pd.DataFrame(
        {
            "dataset": ["circles", "circles"],
            "model": ["full", "vanilla"],
            "median": [0.2, 0.7],
            "ci_low": [0.1, 0.5],
            "ci_high": [0.3, 0.9],
            "n_rounds": [10, 10],
            "seed": [0, 0],
        }
    )
    absolute = pd.DataFrame(
        {
            "dataset": ["moons", "moons"],
            "metric": ["ip", "mmd"],
            "ct_mean": [1.3, 0.02],
            "bl_mean": [1.9, 0.05],
        }
    ).assign(ci_low=-1.0, ci_high=1.0, star=True, n_runs=5)
    written = {
        ("single", "main"): single,
        ("single", "absolute"): absolute.assign(experiment="single"),
        ("mutability", "absolute"): absolute.assign(experiment="mutability", metric="cost"),
        ("single", "costs_unconstrained"): costs,
        ("single", "validity"): validity.assign(experiment="single"),
        ("mutability", "main"): mutability,
        ("mutability", "validity"): validity.assign(experiment="mutability"),
        ("mutability", "ig"): ig,
        ("single", "accuracy"): pd.DataFrame(
            {"dataset": ["circles"] * 2, "model": ["full", "vanilla"], "accuracy": [0.9, 0.8]}
        ),
    }
    for (exp, name), df in written.items():
        path = tables.table_path(tmp_path, exp, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(path, index=False)
    return tmp_path


def test_macro_name_is_camel_case_of_letter_parts():
    assert names.macro_name("ip", "reduction", "Circ") == "ipReductionCirc"
    assert names.macro_name("have", "fig", "robustness_fgsm") == "haveFigRobustnessFgsm"
    assert names.macro_name("ipStar", "Sig", "GMSC") == "ipStarSigGMSC"
    with pytest.raises(ValueError, match="digit"):
        names.macro_name("ip", "seed0")


def test_macros_carry_the_table_values_rounded(results: Path):
    m = macros.collect_macros(results, ["single", "mutability"])
    assert m["ipReductionCirc"] == "58.88"
    assert m["ipReductionMoon"] == "-19.59"
    assert m["ipSigCirc"] == macros.SIG_MARK
    assert m["ipStarSigCirc"] == ""
    assert m["ipReductionAvg"] == "19.64"
    assert m["costReductionCirc"] == "42.99"
    # counts derived from the same rows: one significant positive, one significant negative
    assert (m["ipNumSig"], m["ipNumSigNeg"], m["ipNumDatasets"]) == ("1", "1", "2")
    assert (m["ipBestData"], m["ipWorstData"]) == ("Circ", "Moon")
    assert "haveSingle" in m and "haveAblation" not in m
    assert (m["validityBLUnconstrainedCirc"], m["igNumLower"]) == ("0.50", "1")
    assert m["costUnconstrainedReductionCirc"] == "40.00"
    assert (m["accuracyCTAvg"], m["accuracyBLCirc"]) == ("0.90", "0.80")
    assert all(re.fullmatch("[A-Za-z]+", k) for k in m)


def test_missing_table_of_a_configured_experiment_names_the_file(results: Path):
    with pytest.raises(FileNotFoundError, match=r"ablation/tables/ablation\.csv"):
        macros.collect_macros(results, ["single", "ablation"])


def test_paper_rows_keep_first_seed_and_ecco_protocol():
    df = pd.DataFrame(
        {
            "seed": [0, 1, 0, 0],
            "protocol": ["ecco", "ecco", "own", "ecco"],
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert tables.paper_rows(df)["value"].tolist() == [1.0, 4.0]


def test_rendered_macros_are_newcommands(results: Path, tmp_path: Path):
    path = macros.write_macros(tmp_path / "m.tex", {"ipReductionCirc": "58.88"}, "x")
    assert "\\newcommand{\\ipReductionCirc}{58.88}" in path.read_text()
    with pytest.raises(ValueError, match="letters only"):
        macros.render({"ip2": "1"}, "x")


def test_main_tabular_has_star_missing_cells_and_the_published_beside_ours(results: Path):
    text = latex.main_tabular(results, ["single", "mutability"])
    ours = "58.88\\textsuperscript{*} {\\scriptsize $\\pm$ 0.37}"
    published = "58.88\\textsuperscript{*}"  # method §6.1: Circ IP 58.88 ± 0.37 *
    negative = "\\ensuremath{-}3.00 {\\scriptsize $\\pm$ 9.00}"  # a minus sign, not a hyphen
    assert f"Circ & {ours} & {published} & {negative} & 93.84\\textsuperscript{{*}}" in text
    assert "Ours & Published" in text and "-3.00" not in text
    assert text.index("Circ") < text.index("Moon") < text.index("Avg")
    text = latex.main_tabular(results, ["single"])  # no mutability: our cost cell empty
    assert "& -- & 42.99\\textsuperscript{*} \\\\" in text


def test_comparison_sign_and_star_agreement(results: Path):
    df = compare.comparison(results, ["single", "mutability"])
    row = df[(df["table"] == "main") & (df["dataset"] == "moons") & (df["metric"] == "ip")]
    row = row.iloc[0]
    assert row["published"] == pytest.approx(19.59)
    assert row["ours"] == pytest.approx(-19.594)
    assert not row["sign_agrees"] and row["star_agrees"]
    circ = df[(df["table"] == "main") & (df["dataset"] == "circles") & (df["metric"] == "cost")]
    assert circ.iloc[0]["sign_agrees"] and circ.iloc[0]["star_agrees"]
    # every published main-table cell is listed; those not run have no value of ours
    main = df[df["table"] == "main"]
    assert len(main) == 9 * 3 + 3
    assert main[main["dataset"] == "gmsc"]["ours"].isna().all()


def test_comparison_across_seeds_counts_the_seeds_keeping_sign_and_star(results: Path):
    path = tables.table_path(results, "single", "main")
    first = pd.read_csv(path).assign(seed=0)
    second = first.copy().assign(seed=1)
    # seed 1: circles IP keeps sign and star (40.0*), moons IP flips sign (+5.0, no star)
    second.loc[(second["dataset"] == "circles") & (second["metric"] == "ip"), "value"] = 40.0
    moons = (second["dataset"] == "moons") & (second["metric"] == "ip")
    second.loc[moons, ["value", "star"]] = [5.0, False]
    pd.concat([second, first]).to_csv(path, index=False)  # seed order in the file is irrelevant
    df = compare.comparison(results, ["single", "mutability"]).set_index(
        ["table", "dataset", "metric"]
    )
    circ = df.loc[("main", "circles", "ip")]
    assert circ["ours"] == pytest.approx(58.876)  # the first seed, as the paper
    assert circ["n_seeds"] == 2 and circ["n_seeds_agree"] == 2
    assert circ["seeds_mean"] == pytest.approx((58.876 + 40.0) / 2)
    assert circ["seeds_std"] == pytest.approx(abs(58.876 - 40.0) / math.sqrt(2))
    moon = df.loc[("main", "moons", "ip")]
    assert moon["ours"] == pytest.approx(-19.594)
    assert moon["n_seeds"] == 2 and moon["n_seeds_agree"] == 0  # seed 0 has the wrong sign
    validity = df.loc[("validity", "circles", "validity")]
    assert validity["n_seeds"].max() == 1 and validity["n_seeds_agree"].isna().all()
    # the disagreements: moons IP (wrong sign at seed 0) is listed, circles IP (robust) is not
    table = compare.comparison(results, ["single", "mutability"])
    listed = latex.disagreements_tabular(table)
    assert "Moon & CT & $\\IP$ reduction (\\%) & 19.59" in listed
    assert "Circ & CT & $\\IP$ reduction" not in listed
    counts = report.comparison_macros(table)
    # seeded: IP and IP* of circles, moons and Avg.; not robust: moons IP (sign at seed 0) and
    # circles IP* (-3.0 without a star in both seeds, published 93.84*)
    assert counts["compareSeeds"] == "2" and counts["compareSeededCells"] == "6"
    assert counts["compareSeededRobust"] == "4"


def test_comparison_places_ct_and_bl_absolute_means_next_to_the_published(results: Path):
    df = compare.comparison(results, ["single", "mutability"])
    moons = df[(df["table"] == "absolute") & (df["dataset"] == "moons")].set_index(
        ["model", "metric"]
    )
    # method §6.3: Moon IP 1.37 (CT) / 1.71 (BL), IP* 0.02 / 0.02, cost 1.52 / 1.60
    assert moons.loc[("full", "ip"), ["published", "ours"]].tolist() == pytest.approx([1.37, 1.3])
    assert moons.loc[("vanilla", "ip"), ["published", "ours"]].tolist() == pytest.approx(
        [1.71, 1.9]
    )
    assert moons.loc[("vanilla", "mmd"), "ours"] == pytest.approx(0.05)
    assert moons.loc[("full", "cost"), ["published", "ours"]].tolist() == pytest.approx([1.52, 1.3])
    assert moons[["sign_agrees", "star_agrees"]].isna().all().all()  # means have no sign
    assert df[(df["table"] == "absolute") & (df["dataset"] == "gmsc")]["ours"].isna().all()


def test_ig_seed_macros_count_the_seeds_with_ct_below_bl():
    ig = pd.DataFrame(
        {
            "dataset": ["gmsc"] * 6 + ["lin_sep"] * 2,
            "seed": [0, 0, 1, 1, 2, 2, 0, 0],
            "model": ["full", "vanilla"] * 4,
            "median": [0.1, 0.4, 0.5, 0.2, 0.2, 0.3, 0.2, 9.0],
        }
    )
    out = macros.ig_seed_macros(ig)
    assert out["igSeeds"] == "3"
    assert out["igSeedsLowerGMSC"] == "2" and out["igSeedsLowerLS"] == "1"
    # the paper's sentence names every paper dataset: one not run reads "--"
    assert out["igSeedsLowerMNIST"] == "--" and len(out) == 1 + 9 + 1
    # the sentence names each group of datasets once, most seeds first
    assert out["igSeedsPhrase"] == "in 2 seeds on GMSC and in 1 seed on LS"


def test_published_numbers_cover_spec_section_six():
    pub = compare.published()
    assert set(pub["table"]) == {
        "main",
        "absolute",
        "costs_unconstrained",
        "validity",
        "ig",
        "ablation",
        "robustness",
    }
    main = pub[pub["table"] == "main"]
    assert main.loc[main["dataset"] != "Avg.", "value"].count() == 27
    # the published averages are the means of the published dataset values (method §6.1)
    for metric in ("ip", "mmd", "cost"):
        part = main[main["metric"] == metric]
        avg = part[part["dataset"] == "Avg."]["value"].iloc[0]
        assert part[part["dataset"] != "Avg."]["value"].mean() == pytest.approx(avg, abs=0.01)
    assert not pub.duplicated(compare.KEYS).any()
    # method §6.3: CT and BL means of 9 datasets × 3 metrics, each CT − BL inside its published
    # 99% interval (up to the two-decimal rounding of the means)
    absolute = pub[pub["table"] == "absolute"]
    wide = absolute.pivot_table(index=["dataset", "metric"], columns="model", values="value")
    assert wide.shape == (27, 2)
    bounds = absolute.groupby(["dataset", "metric"])[["ci_low", "ci_high"]].first()
    difference = wide["full"] - wide["vanilla"]
    assert (difference >= bounds["ci_low"] - 0.015).all()
    assert (difference <= bounds["ci_high"] + 0.015).all()


def test_expected_figures_follow_the_configuration():
    smoke = {"single": ["moons"], "mutability": ["moons"], "ablation": ["moons"]}
    names_ = figures.expected(smoke)
    assert "main_reductions" in names_ and "ablation" in names_
    assert "mnist_counterfactuals" not in names_ and "initial_grid_heatmap" not in names_
    assert "mnist_ig" in figures.expected({**smoke, "mutability": ["moons", "mnist"]})
    assert figures.expected({"tune": ["moons"]}, "grids") == ["grid_tune"]


def test_save_refuses_a_figure_the_dag_does_not_know(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=style.size(1.0, 2.0))
    with pytest.raises(ValueError, match="not expected"):
        figures.save(fig, "ablation", tmp_path, ["main_reductions"])
    paths = figures.save(fig, "ablation", tmp_path, ["ablation"])
    assert [p.name for p in paths] == ["ablation.pdf", "ablation.png"]
    plt.close(fig)


def test_failing_notebook_reports_the_cell_traceback(tmp_path: Path):
    nb = tmp_path / "broken.py"
    nb.write_text(
        '# %% tags=["parameters"]\nvalue = 1\n\n# %%\nassert value == 2, "value was not two"\n'
    )
    with pytest.raises(notebook.NotebookError) as err:
        notebook.run_notebook(nb, {"value": 3}, tmp_path, [], tmp_path / "broken.ipynb")
    assert "AssertionError" in str(err.value) and "value was not two" in str(err.value)
    # the injected parameters cell sits right after the tagged one and was executed
    executed = (tmp_path / "broken.ipynb").read_text()
    assert "value = 3" in executed


def test_check_log_finds_undefined_references_and_citations(tmp_path: Path):
    log = tmp_path / "paper.log"
    log.write_text(
        "LaTeX Warning: Reference `tab:x' on page 2 undefined on input line 5.\n"
        "Package natbib Warning: Citation `foo' on page 1 undefined on input line 3.\n"
        "LaTeX Warning: Label `a' multiply defined.\n"
    )
    assert len(check_log(log)) == 3
    log.write_text("Output written on paper.pdf (3 pages).\n")
    assert check_log(log) == []


def test_hand_typed_numbers_are_found_and_allowed_digits_are_not():
    assert hand_typed_numbers("CT lowers IP by 26.26\\% on Circ.") == [
        (1, "CT lowers IP by 26.26\\% on Circ.")
    ]
    allowed = (
        "\\includegraphics[width=0.5\\linewidth]{fig1.pdf} % method §6.1\n"
        "the $\\ell_1$ distance, see Table~\\ref{tab:a1} and \\citep{wachter2017}\n"
        "\\newcommand{\\notrun}[1]{#1}\n"
        "CT lowers IP by \\ipReductionCirc\\pct."
    )
    assert hand_typed_numbers(allowed) == []


def test_paper_sources_have_no_hand_typed_numbers():
    sources = sorted(PAPER.rglob("*.tex"))
    assert len(sources) > 5
    assert scan(sources) == []


def test_missing_latex_names_the_packages_to_install(monkeypatch, tmp_path: Path):
    from cftrain.pipeline.reporting import latexmk

    monkeypatch.setattr(latexmk.shutil, "which", lambda name: None)
    with pytest.raises(latexmk.PaperBuildError) as err:
        latexmk.build_pdf(PAPER / "paper.tex", tmp_path / "p.pdf", [], tmp_path / "build")
    message = str(err.value)
    for package in ("latexmk", "texlive-latex-base", "texlive-latex-recommended"):
        assert package in message
    assert ".ci/install-tex.sh" in message


def test_rule_outputs_and_inputs_per_notebook():
    runs = {"single": ["moons"], "tune": ["moons"], "initial_grid": ["moons"]}
    outputs = figures.rule_outputs(runs)
    assert set(outputs) == {"main_results", "grids", "initial_grid"}  # no figures, no rule
    assert outputs["grids"] == ["results/figures/grid_tune.pdf", "results/figures/grid_tune.png"]
    inputs = figures.rule_tables(runs)
    assert inputs["grids"] == ["results/tune/tables/grid.csv"]
    assert inputs["main_results"] == [
        "results/single/tables/costs_unconstrained.csv",
        "results/single/tables/main.csv",
        "results/single/tables/validity.csv",
    ]


def test_provenance_records_the_config_and_the_versions_that_computed_it(tmp_path: Path):
    import json

    import torch

    from cftrain.pipeline.reporting.provenance import write_provenance

    path = write_provenance(tmp_path / "provenance.json", {"scale": "paper", "seeds": [0, 1]})
    record = json.loads(path.read_text())
    assert record["config"] == {"scale": "paper", "seeds": [0, 1]}
    assert record["packages"]["torch"] == torch.__version__.split("+")[0] or record["packages"][
        "torch"
    ].startswith(torch.__version__.split("+")[0])
    assert record["packages"]["cftrain"] and record["python"].count(".") == 2


def test_initial_grid_macros_compare_each_cell_group_with_bl_evaluated_alike():
    rows = [  # protocol, training generator, objective, λ_energy, plausibility (−IP)
        ("ecco", "ecco", "vanilla", None, -1.0),
        ("ecco", "generic", "vanilla", None, -1.0),
        ("ecco", "ecco", "full", 0.5, -0.8),
        ("ecco", "ecco", "full", 5.0, -1.2),
        ("ecco", "generic", "full", 0.5, -0.9),
        ("ecco", "generic", "full", 5.0, -0.7),
        ("own", "ecco", "vanilla", None, -1.0),
        ("own", "generic", "vanilla", None, -2.0),  # BL searched with Generic: less plausible
        ("own", "ecco", "full", 0.5, -1.1),
        ("own", "ecco", "full", 5.0, -1.3),
        ("own", "generic", "full", 0.5, -1.5),
        ("own", "generic", "full", 5.0, -2.5),
    ]
    columns = ["protocol", "generator", "objective", "lambda_energy", "plausibility_mean"]
    df = pd.DataFrame(rows, columns=columns).assign(dataset="moons", seed=0)
    out = macros.initial_grid_macros(df)
    assert out["gridRowsEcco"] == "4" and out["gridBetterEcco"] == "3"
    assert out["gridRowsOwn"] == "4" and out["gridBetterOwn"] == "1"
    # mean gain under ECCo: generator ECCo 0.0, Generic +0.2; λ 0.5 +0.15, λ 5 +0.05
    assert out["gridBestGenerator"] == "Generic" and out["gridBestLambda"] == "0.5"
    assert out["gridWorstPlausibility"] == "-2.50" and out["gridDatasets"] == "1"
    # the least plausible value is CT's, however implausible BL is
    worse_bl = df.assign(
        plausibility_mean=df["plausibility_mean"].where(df["objective"] == "full", -9.0)
    )
    assert macros.initial_grid_macros(worse_bl)["gridWorstPlausibility"] == "-2.50"
