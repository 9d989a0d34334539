"""Aggregation into the paper's tables on constructed inputs with known answers (method §5.3,
§6)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cftrain.evaluation import (
    ablation_table,
    ig_table,
    reduction_table,
    robustness_table,
    validity_table,
    violation_table,
)
from cftrain.evaluation.aggregation import average_rows

RATIOS = np.array([0.5, 0.6, 0.7, 0.8, 0.9])  # CT/BL per run for IP
BL_IP = 2.0


def _row(model, run, lam, valid=True, ip=np.nan, mmd=np.nan, cost=np.nan, dataset="moons"):
    return dict(
        dataset=dataset,
        experiment="single",
        model=model,
        run=run,
        lambda_energy=lam,
        validity=valid,
        ip=ip,
        mmd=mmd,
        cost=cost,
    )


def _table() -> pd.DataFrame:
    """Five runs × two λ. BL has IP 2 everywhere; CT's λ-averaged IP in run r is 2·RATIOS[r],
    reached through uneven cells and several CEs per cell; invalid CEs carry wild values that
    must be ignored. Cost: CT/BL = 1.1 in runs 0–2 and 0.9 in runs 3–4, so the difference
    changes sign (no star). Run 5 has no valid CT counterfactual and must be dropped."""
    rows = []
    for r, ratio in enumerate(RATIOS):
        for lam in (0.1, 5.0):
            rows += [_row("vanilla", r, lam, ip=BL_IP, mmd=0.1, cost=1.0)]
            rows += [_row("vanilla", r, lam, valid=False, ip=99.0, mmd=99.0, cost=99.0)]
        # λ=0.1 cell: mean of 2·ratio − 0.5 over two CEs; λ=5 cell: 2·ratio + 0.5 → average 2·ratio
        rows += [_row("full", r, 0.1, ip=2 * ratio - 0.5 - d, cost=1.0) for d in (-0.1, 0.1)]
        rows += [_row("full", r, 5.0, ip=2 * ratio + 0.5, cost=1.0)]
        rows += [_row("full", r, 0.1, valid=False, ip=-50.0, cost=-50.0)]
        cost_ct = 1.1 if r < 3 else 0.9
        rows[-4]["cost"] = rows[-3]["cost"] = rows[-2]["cost"] = cost_ct
        # MMD: one valid CT cell negative (clamped to 0), the other 0.1·ratio·2
        rows[-4]["mmd"] = rows[-3]["mmd"] = -0.3
        rows[-2]["mmd"] = 0.2 * ratio
    rows += [_row("vanilla", 5, 0.1, ip=BL_IP, mmd=0.1, cost=1.0)]
    rows += [_row("full", 5, 0.1, valid=False, ip=1.0, mmd=0.1, cost=1.0)]
    return pd.DataFrame(rows)


def _get(table, metric, dataset="moons"):
    return table[(table["metric"] == metric) & (table["dataset"] == dataset)].iloc[0]


def test_reduction_reproduces_known_percentage_std_interval_and_star():
    table = reduction_table(_table())
    ip = _get(table, "ip")
    assert ip["value"] == pytest.approx(30.0)  # (1 − mean ratio)·100
    assert ip["std"] == pytest.approx(100 * np.std(RATIOS, ddof=1))  # 15.811…
    # δ_r = 2·ratio − 2 = −1, −0.8, …, −0.2; linear quantiles at 0.005 / 0.995 of 5 values
    assert ip["ci_low"] == pytest.approx(-1.0 + 0.02 * 0.2)
    assert ip["ci_high"] == pytest.approx(-0.4 + 0.98 * 0.2)
    assert bool(ip["star"])
    assert ip["ct_mean"] == pytest.approx(2 * RATIOS.mean())
    assert ip["bl_mean"] == pytest.approx(BL_IP)
    assert (ip["n_runs"], ip["n_dropped_runs"]) == (5, 1)


def test_reduction_without_significance_when_the_interval_covers_zero():
    cost = _get(reduction_table(_table()), "cost")
    ratios = np.array([1.1, 1.1, 1.1, 0.9, 0.9])
    assert cost["value"] == pytest.approx((1 - ratios.mean()) * 100)  # −2.0
    assert cost["std"] == pytest.approx(100 * np.std(ratios, ddof=1))
    assert cost["ci_low"] < 0 < cost["ci_high"]
    assert not bool(cost["star"])


def test_negative_mmd_is_clamped_to_zero_before_averaging():
    mmd = _get(reduction_table(_table()), "mmd")
    # CT run r: cells (0, 0.2·ratio) → mean 0.1·ratio; BL 0.1 → ratio_r = RATIOS
    assert mmd["value"] == pytest.approx(30.0)
    assert mmd["ct_mean"] == pytest.approx(0.1 * RATIOS.mean())


def test_runs_with_a_zero_baseline_keep_their_interval_and_lose_only_the_ratio():
    df = _table()
    df.loc[(df["model"] == "vanilla") & (df["run"] == 0), "cost"] = 0.0
    cost = _get(reduction_table(df), "cost")
    assert (cost["n_runs"], cost["n_dropped_runs"], cost["n_undefined_ratios"]) == (5, 1, 1)
    assert np.isfinite(cost["value"])


def test_average_row_is_the_plain_mean_over_datasets():
    other = _table().assign(dataset="circles")
    other.loc[other["model"] == "full", "ip"] *= 0.5  # ratios halve → value 65
    table = reduction_table(pd.concat([_table(), other]))
    assert _get(table, "ip", "circles")["value"] == pytest.approx(65.0)
    assert _get(table, "ip", "Avg.")["value"] == pytest.approx((30.0 + 65.0) / 2)


def test_average_row_does_not_depend_on_the_other_seeds_in_the_table():
    """The Avg. of seed 0 is the same bits whether the table holds one seed or five (pandas'
    grouped mean is not: it moved the record's cost average by one ulp)."""
    values = [-30.334085, 44.013776, 39.562991, 15.024731, -18.315422, -25.01557, 30.072652]
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame({"seed": seed, "dataset": range(7), "value": values})
        if seed == 0
        else pd.DataFrame({"seed": seed, "dataset": range(7), "value": rng.normal(0, 30, 7)})
        for seed in range(5)
    ]
    one = average_rows(frames[0], ["seed"], ["value"])
    five = average_rows(pd.concat(frames, ignore_index=True), ["seed"], ["value"])
    assert one["value"].iloc[0] == five["value"].iloc[0] == math.fsum(values) / 7
    assert five["dataset"].eq("Avg.").all() and len(five) == 5


def test_validity_table_uses_all_counterfactuals_averaged_over_cells():
    df = pd.DataFrame(
        [
            _row("full", 0, 0.1, valid=True),
            _row("full", 0, 0.1, valid=False),  # cell mean 0.5
            _row("full", 0, 5.0, valid=True),  # cell mean 1.0
            _row("full", 1, 0.1, valid=False),
            _row("full", 1, 5.0, valid=False),  # run 1: 0
            _row("vanilla", 0, 0.1, valid=True),
        ]
    )
    table = validity_table(df).set_index(["dataset", "model"])["validity"]
    assert table[("moons", "full")] == pytest.approx((0.5 + 1.0 + 0 + 0) / 4)
    assert table[("moons", "vanilla")] == pytest.approx(1.0)
    assert table[("Avg.", "full")] == pytest.approx(0.375)


def test_ablation_reductions_against_hand_computed_means():
    df = _table()
    extra = df[df["model"] == "full"].assign(model="energy")
    extra["ip"] = extra["ip"] * 0.5
    table = ablation_table(pd.concat([df, extra])).set_index(["model", "metric"])
    # full: run means 2·RATIOS (runs 0–4), BL 2 → (1.4 − 2)/2·(−100) = 30
    assert table.loc[("full", "ip"), "reduction"] == pytest.approx(30.0)
    assert table.loc[("energy", "ip"), "reduction"] == pytest.approx(65.0)
    assert table.loc[("full", "ip"), "baseline_mean"] == pytest.approx(BL_IP)
    assert "vanilla" not in table.index.get_level_values("model")
    # the error bar: std over the runs of each run's own reduction, (1 − RATIOS[r])·100 =
    # 50, 40, 30, 20, 10 for full and 75, …, 55 for energy (run 5 has no CT: not paired)
    assert table.loc[("full", "ip"), "std"] == pytest.approx(np.std([50, 40, 30, 20, 10], ddof=1))
    assert table.loc[("energy", "ip"), "std"] == pytest.approx(np.std([75, 70, 65, 60, 55], ddof=1))


def test_ig_table_median_and_interval():
    values = np.arange(101, dtype=float)  # percentiles of 0..100 are the percentages
    rounds = pd.DataFrame({"dataset": "lin_sep", "model": "full", "value": values})
    row = ig_table(rounds).iloc[0]
    assert (row["median"], row["ci_low"], row["ci_high"]) == pytest.approx((50.0, 2.5, 97.5))
    assert row["n_rounds"] == 101


def test_robustness_table_adds_clean_accuracy_and_drop():
    curve = pd.DataFrame(
        {
            "model": ["CT"] * 3,
            "attack": ["fgsm"] * 3,
            "epsilon": [0.1, 0.0, 0.05],
            "accuracy": [0.6, 0.9, 0.8],
        }
    )
    table = robustness_table({"adult": curve})
    assert table["epsilon"].tolist() == [0.0, 0.05, 0.1]
    assert table["clean_accuracy"].tolist() == [0.9, 0.9, 0.9]
    assert table["accuracy_drop"].tolist() == pytest.approx([0.0, 0.1, 0.3])
    assert set(table["dataset"]) == {"adult"}


def test_violation_rates_per_kind_and_any():
    flags = dict(immutable_moved=False, direction_violated=False, domain_left=False)
    rows = [
        {**_row("full", 0, 0.1), **flags, "immutable_moved": True, "domain_left": True},
        {**_row("full", 0, 0.1), **flags},  # cell (0, 0.1): immutable 0.5, domain 0.5, any 0.5
        {**_row("full", 0, 5.0), **flags, "direction_violated": True},  # cell (0, 5): 1.0
    ]
    row = violation_table(pd.DataFrame(rows)).iloc[0]
    assert row["immutable_moved"] == pytest.approx(0.25)
    assert row["direction_violated"] == pytest.approx(0.5)
    assert row["domain_left"] == pytest.approx(0.25)
    assert row["any_violation"] == pytest.approx(0.75)
