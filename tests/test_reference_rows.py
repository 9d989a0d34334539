"""CH, Credit and GMSC from the reference's preprocessed rows (issue 29): the data source,
its cache key, several mirrors, the workflow option and the comparison of both sources."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from cftrain.data import DATA_SEED, load, raw_inputs
from cftrain.data.acquire import RAW_FILES, sha256_of
from cftrain.data.splits import stream
from cftrain.data.tabular import REFERENCE_FILES, SPECS, undersample
from cftrain.pipeline import config as cfg
from cftrain.pipeline.reporting import compare, latex, tables


def _reference_layout(data_mirror: Path, name: str, folder: Path, monkeypatch) -> Path:
    """Our own draw of ``name`` written as the reference's file (features, then ``target``)
    under ``folder`` in the raw layout, pinned in place of the real file's digest."""
    spec = SPECS[name]
    frame, y = spec.read(data_mirror / spec.raw)
    rows = undersample(y, stream(DATA_SEED, "undersample"))
    path = folder / REFERENCE_FILES[name]
    path.parent.mkdir(parents=True)
    frame.iloc[rows].assign(target=y[rows]).to_csv(path, index=False)
    pinned = dataclasses.replace(RAW_FILES[REFERENCE_FILES[name]], sha256=sha256_of(path))
    monkeypatch.setitem(RAW_FILES, REFERENCE_FILES[name], pinned)
    return path


def test_reference_rows_build_the_dataset_of_those_rows(tmp_path, data_mirror, monkeypatch):
    """Given rows equal to our own draw, the reference route builds exactly the raw route's
    dataset; the data seed does not enter (the reference's draw is fixed) and both sources
    are cached apart. The second of two mirrors (os.pathsep-separated) is searched."""
    own = tmp_path / "own-mirror"
    _reference_layout(data_mirror, "credit", own, monkeypatch)
    mirrors = os.pathsep.join([str(data_mirror), str(own)])
    reference = load("credit", cache_dir=tmp_path / "data", mirror=mirrors)
    raw = load("credit", cache_dir=tmp_path / "data", mirror=data_mirror, tabular_rows="raw")
    assert reference.meta["params"]["tabular_rows"] == "reference"
    assert list(reference.meta["raw_sha256"]) == [REFERENCE_FILES["credit"]]
    assert reference.feature_names == raw.feature_names
    for part in ("train", "val", "test"):
        for a, b in zip(reference.tensors(part), raw.tensors(part), strict=True):
            assert torch.equal(a, b), part
    other_seed = load("credit", cache_dir=tmp_path / "data", mirror=mirrors, seed=DATA_SEED + 1)
    assert torch.equal(other_seed.tensors("train")[0], reference.tensors("train")[0])
    raw_other = load(
        "credit",
        cache_dir=tmp_path / "data",
        mirror=data_mirror,
        seed=DATA_SEED + 1,
        tabular_rows="raw",
    )
    assert not torch.equal(raw_other.tensors("train")[0], raw.tensors("train")[0])
    assert len(list((tmp_path / "data" / "processed").glob("credit-*.npz"))) == 4


def test_unknown_rows_source_is_named(tmp_path):
    with pytest.raises(ValueError, match="tabular_rows must be one of reference, raw, got 'ce'"):
        load("cali", cache_dir=tmp_path, tabular_rows="ce")
    assert raw_inputs("moons", "raw") == {}  # other datasets ignore the option
    assert raw_inputs("gmsc") == {"data": "reference/gmsc.csv"}
    assert raw_inputs("gmsc", "raw") == {"data": "give_me_some_credit/cs-training.csv"}
    for rel in REFERENCE_FILES.values():  # pinned to one commit, downloadable without login
        (source,) = RAW_FILES[rel].sources
        assert "/ce5c7739e0c0378f014c38b5e4272c64dd06ace2/" in source.url


def _experiment(name: str, rows: str | None) -> cfg.Experiment:
    raw = {"datasets": ["credit", "moons"], "train": {"grid": {"objective": ["full", "vanilla"]}}}
    if rows is not None:
        raw["tabular_rows"] = rows
    return cfg.checked_experiment(name, raw, name)


def test_raw_rows_reach_every_job_and_train_their_own_models():
    """The option is named in the training, evaluation and performance specs only when it is
    not the default (so existing digests stay), and it separates the models."""
    default, explicit, raw = (
        _experiment("single", None),
        _experiment("single", "reference"),
        _experiment("single_raw", "raw"),
    )
    cell = default.cells[0].id
    assert default.training("credit", cell, 0) == explicit.training("credit", cell, 0)
    assert "data" not in default.training("credit", cell, 0)
    group, protocol = next(iter(raw.groups)), raw.protocols[0]
    for spec in (
        raw.training("credit", cell, 0),
        raw.evaluation("credit", group, protocol),
        raw.performance("credit"),
    ):
        assert spec["data"] == {"tabular_rows": "raw"}
    owners = cfg.model_owners([default, raw])
    assert owners[("single_raw", "credit", cell, 0)] == ("single_raw", "credit", cell, 0)
    with pytest.raises(cfg.ConfigError, match="tabular_rows"):
        _experiment("bad", "ce")


def _main(experiment: str, value: float, star: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "experiment": experiment,
            "dataset": "cali",
            "metric": ["ip", "mmd"],
            "value": [value, 1.0],
            "std": 1.0,
            "star": [star, False],
            "seed": 0,
            "ct_mean": 1.0,
            "bl_mean": 2.0,
        }
    )


def test_rows_comparison_sets_both_sources_beside_the_published(tmp_path):
    """CH's IP (published 10.65*) on the reference's rows and on our draw, side by side; no
    raw run, no rows."""
    for experiment, value, star in (("single", 12.0, True), ("single_raw", 0.5, False)):
        (tmp_path / experiment / "tables").mkdir(parents=True)
        for name in ("main", "costs_unconstrained", "validity"):  # the tables it reads
            table = _main(experiment, value, star)
            table.to_csv(tables.table_path(tmp_path, experiment, name), index=False)
        absolute = table[["experiment", "dataset", "metric", "seed", "ct_mean", "bl_mean"]]
        absolute.to_csv(tables.table_path(tmp_path, experiment, "absolute"), index=False)
    both = ["single", "single_raw"]
    df = compare.rows_comparison(tmp_path, both, compare.comparison(tmp_path, both))
    ip = df[df["metric"] == "ip"].iloc[0]
    assert (ip["published"], bool(ip["published_star"])) == (10.65, True)
    assert (ip["ours_reference"], bool(ip["ours_star_reference"])) == (12.0, True)
    assert (ip["ours_raw"], bool(ip["ours_star_raw"])) == (0.5, False)
    assert set(df["dataset"]) == {"cali"} and set(df["metric"]) == {"ip", "mmd"}
    text = latex.rows_tabular(df)
    assert (
        "CH & $\\IP$ reduction (\\%) & 10.65\\textsuperscript{*} & 12.00\\textsuperscript{*} & 0.50"
        in text
    )
    alone = compare.rows_comparison(tmp_path, ["single"], compare.comparison(tmp_path, ["single"]))
    assert alone.empty and "nothing to compare" in latex.rows_tabular(alone)
