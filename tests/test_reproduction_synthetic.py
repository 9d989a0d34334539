"""Full-size check against the paper's main table on synthetic data (about 45 s on 2 cores).

BL and CT MLPs with the final hyperparameters (method §0, 100 epochs), evaluated with the
method §5.2 protocol at the paper's sizes (J=100, 250 individuals, 5 λ_egy) and aggregated as
method §5.3. Published (method §6.1, §6.3): significant IP reductions of 26.3 % (LS), 58.9 %
(Circ) and 19.6 % (Moon), 93.8 % IP* on Circ, and on OL no significant IP change (−1.9 %)
with absolute IP ≈ 4.5 for both models; LS absolute IP 2.51 (CT) / 3.40 (BL). LS and OL use
the reference's blob centres (method §4.1); the samples themselves come from our own streams,
so the bands are those of one seed's run (seed 0 gave LS 33.0 %, BL 3.50, CT 2.34; OL −0.4 %,
BL 4.58, CT 4.60), a little wider than its bootstrap spread.
"""

from __future__ import annotations

import pytest

from cftrain.data import load
from cftrain.evaluation import benchmark_dataset, eval_settings, reduction_table
from cftrain.experiment import train_cell
from cftrain.training import final_config


def _reductions(name: str):
    ds = load(name)
    trained = {o: train_cell(ds, final_config(name, o)).model for o in ("vanilla", "full")}
    table = benchmark_dataset(ds, trained, eval_settings(), experiment="single", seed=0)
    return reduction_table(table, average=False).set_index("metric")


@pytest.mark.parametrize(
    ("name", "min_ip"), [("lin_sep", 20.0), ("circles", 45.0), ("moons", 10.0)]
)
def test_ct_reduces_implausibility_significantly(name, min_ip):
    red = _reductions(name)
    assert red.loc["ip", "value"] > min_ip
    assert bool(red.loc["ip", "star"])
    if name == "circles":
        assert red.loc["mmd", "value"] > 50.0 and bool(red.loc["mmd", "star"])
    if name == "lin_sep":  # absolute means near the published 2.51 / 3.40 (method §6.3)
        assert 3.0 < red.loc["ip", "bl_mean"] < 3.9
        assert 2.0 < red.loc["ip", "ct_mean"] < 2.9


def test_overlapping_blobs_show_no_clear_ip_change():
    red = _reductions("over")
    assert -5.0 < red.loc["ip", "value"] < 5.0
    for mean in ("ct_mean", "bl_mean"):
        assert 4.1 < red.loc["ip", mean] < 5.0  # published 4.52 / 4.44
