"""Experiments as data (issue 14): schema validation, grid expansion, cell groups, job specs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cftrain import data, objectives, sizes
from cftrain.pipeline import config as cfg
from cftrain.pipeline.jobs import training_config
from cftrain.training_config import GENERATORS, TrainingConfig, final_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


@pytest.fixture(scope="module")
def experiment_schema() -> dict:
    return cfg.load_yaml(SCHEMAS / "experiment.schema.yaml")


def test_expand_grid_is_the_product_with_vanilla_once_per_relevant_value():
    grid = {
        "objective": ["full", "vanilla"],
        "generator": ["ecco", "generic"],
        "lambda_energy": [0.1, 5.0],
        "nepochs": [10, 20],
    }
    cells = cfg.expand_grid(grid)
    full = [c for c in cells if c.params["objective"] == "full"]
    vanilla = [c for c in cells if c.params["objective"] == "vanilla"]
    assert len(full) == 2 * 2 * 2
    # vanilla ignores generator and λ_energy but not the number of epochs
    assert [c.params for c in vanilla] == [
        {"objective": "vanilla", "nepochs": 10},
        {"objective": "vanilla", "nepochs": 20},
    ]
    assert [c.id for c in vanilla] == ["vanilla_epochs10", "vanilla_epochs20"]
    assert full[0].id == "full_ecco_egy0.1_epochs10"
    assert len({c.id for c in cells}) == len(cells)
    assert [c.id for c in cfg.expand_grid(grid)] == [c.id for c in cells]  # stable


def test_cell_groups_put_baselines_in_every_group():
    cells = cfg.expand_grid({"objective": ["full", "vanilla"], "generator": ["ecco", "revise"]})
    groups = cfg.cell_groups(cells, ["generator"])
    assert {g: [c.id for c in cs] for g, cs in groups.items()} == {
        "ecco": ["full_ecco", "vanilla"],
        "revise": ["full_revise", "vanilla"],
    }
    assert list(cfg.cell_groups(cells, [])) == ["all"]


def test_schema_enums_name_what_the_library_accepts(experiment_schema):
    defs = experiment_schema["$defs"]
    assert sorted(defs["dataset"]["enum"]) == sorted(data.DATASETS)
    assert defs["generator"]["enum"] == list(GENERATORS)
    assert defs["objective"]["enum"] == list(objectives.OBJECTIVES)
    fields = {f.name for f in dataclasses.fields(TrainingConfig)} - {"seed"}
    assert set(defs["training_values"]["properties"]) == fields
    assert set(defs["training_grid"]["properties"]) == fields - {"protect_immutable"}
    assert set(defs["training_key"]["enum"]) == fields


def test_validation_fills_defaults_without_sharing_them(experiment_schema):
    a = cfg.validate({"datasets": ["moons"]}, experiment_schema, "a.yaml")
    b = cfg.validate({"datasets": ["adult"]}, experiment_schema, "b.yaml")
    assert a["seeds"] == [0] and a["train"]["grid"] == {"objective": ["full", "vanilla"]}
    assert a["evaluation"]["protocols"]["ecco"]["lambda_energy"] == [0.1, 0.5, 1.0, 5.0, 10.0]
    a["train"]["fixed"]["nepochs"] = 3
    assert b["train"]["fixed"] == {}


@pytest.mark.parametrize(
    ("spec", "key", "allowed"),
    [
        ({"datasets": ["moonz"]}, "datasets.0", "lin_sep"),
        (
            {"datasets": ["moons"], "train": {"grid": {"generator": ["wachter"]}}},
            "train.grid.generator.0",
            "omniscient",
        ),
        (
            {"datasets": ["moons"], "train": {"grid": {"objective": ["ct"]}}},
            "train.grid.objective.0",
            "adversarial",
        ),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_values(experiment_schema, spec, key, allowed):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.validate(spec, experiment_schema, "config/experiments/x.yaml")
    message = str(err.value)
    assert "config/experiments/x.yaml" in message
    assert repr(key) in message and allowed in message


def _experiment(name: str, overlay: dict | None = None) -> cfg.Experiment:
    schema = cfg.load_yaml(SCHEMAS / "experiment.schema.yaml")
    return cfg.load_experiment(name, ROOT / "config", schema, overlay or {})


def test_training_spec_is_the_final_config_with_fixed_and_cell_values():
    exp = _experiment("single", {"train": {"fixed": {"nepochs": 7}}})
    spec = exp.training("adult", "vanilla", 3)
    expected = dataclasses.replace(final_config("adult", "vanilla", seed=3), nepochs=7)
    assert training_config(spec) == expected
    assert (spec["model"], spec["cell"], spec["seed"]) == ("mlp", "vanilla", 3)


def test_mutability_training_protects_features():
    spec = _experiment("mutability").training("circles", "full", 0)
    assert training_config(spec) == final_config("circles", "full", mutability=True)


def test_evaluation_sizes_default_to_the_paper_and_can_be_overridden():
    single = _experiment("single")
    ev = single.evaluation("mnist", "all", "ecco")
    assert (ev["n_individuals"], ev["n_runs"]) == (sizes.n_individuals("mnist"), 100)
    assert [s["lambda_energy"] for s in ev["settings"]] == [0.1, 0.5, 1.0, 5.0, 10.0]
    assert {s["tau"] for s in ev["settings"]} == {sizes.eval_tau(False)}
    assert ev["cells"] == ["full", "vanilla"]
    ablation = _experiment("ablation").evaluation("mnist", "all", "ecco")
    assert ablation["n_runs"] == sizes.n_runs("mnist", "ablation") == 50
    mut = _experiment("mutability").evaluation("adult", "all", "ecco")
    assert mut["protect"] and {s["tau"] for s in mut["settings"]} == {sizes.eval_tau(True)}
    small = _experiment("single", {"evaluation": {"n_individuals": 7, "n_runs": 2}})
    assert small.evaluation("moons", "all", "ecco")["n_individuals"] == 7


def test_initial_grid_shares_one_vanilla_and_evaluates_with_own_generators():
    exp = _experiment("initial_grid")
    cells = exp.cells
    assert len(cells) == 4 * 3 * 8 * 3 + 1
    assert sum(c.params["objective"] == "vanilla" for c in cells) == 1
    groups = exp.groups
    assert sorted(groups) == ["ecco", "generic", "omniscient", "revise"]
    assert all(len(g) == 3 * 8 * 3 + 1 for g in groups.values())
    own = {g: exp.evaluation("moons", g, "own")["settings"] for g in groups}
    assert {g: [s["generator"] for s in v] for g, v in own.items()} == {
        "ecco": ["ECCo"] * 5,
        "generic": ["Generic"],
        "omniscient": ["Omniscient"],
        "revise": ["REVISE"],
    }
    ecco = exp.evaluation("moons", "revise", "ecco")
    assert ecco["settings"][0]["generator"] == "ECCo"
    # the sizes of the reference's own grids (method §7.1), on the paper's test split
    assert (ecco["n_individuals"], ecco["n_runs"], ecco["split"]) == (100, 5, "test")
    spec = training_config(exp.training("moons", "full_revise_cost0.1_egy15_T100", 0))
    assert (spec.generator, spec.lambda_cost, spec.max_iter) == ("revise", 0.1, 100)
    assert spec.step_size == 0.1


def test_resolve_uses_the_scale_and_rejects_unknown_names():
    conf, exps = cfg.resolve({"scale": "smoke"}, ROOT)
    assert list(exps) == conf["smoke"]["experiments"]
    assert exps["single"].spec["train"]["fixed"]["nepochs"] < 10
    _, paper = cfg.resolve({}, ROOT)
    assert list(paper) == ["single", "mutability", "ablation", "single_raw", "mutability_raw"]
    assert paper["single_raw"].spec["tabular_rows"] == "raw" != paper["single"].spec["tabular_rows"]
    with pytest.raises(cfg.ConfigError, match=r"'device'.*allowed values: \['auto', 'cpu'"):
        cfg.resolve({"device": "gpu"}, ROOT)
    with pytest.raises(cfg.ConfigError, match="unknown experiment 'singel'"):
        cfg.resolve({"experiments": ["singel"]}, ROOT)


def test_every_appendix_grid_validates_and_plans_jobs():
    for path in sorted((ROOT / "config" / "experiments").glob("*.yaml")):
        exp = _experiment(path.stem)
        jobs = cfg.plan([exp])
        n_train = len(exp.datasets) * len(exp.cells) * len(exp.seeds)
        batches = cfg.training_batches([exp])
        assert sum(len(b.cells) for b in batches) == n_train
        assert [j.rule for j in jobs if j.rule.startswith("train_")] == [b.rule for b in batches]
        for group in exp.groups:
            for protocol in exp.protocols:
                assert exp.evaluation(exp.datasets[0], group, protocol)["settings"]


def test_missing_raw_file_fails_with_the_library_message(tmp_path, monkeypatch):
    monkeypatch.setenv("CFTRAIN_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(data.RawFileUnavailableError, match="Kaggle requires a login"):
        cfg.check_raw_files(["moons", "gmsc"], mirror=tmp_path / "empty", tabular_rows="raw")
    cfg.check_raw_files(["moons", "adult"], mirror=tmp_path / "empty")  # downloadable: the job
    cfg.check_raw_files(["gmsc"], mirror=tmp_path / "empty")  # the reference's rows: downloadable


def test_identical_cells_of_two_experiments_train_one_model():
    """The ablation's full and vanilla cells are single's (same config and seed, bitwise equal
    models): the plan trains them once, under single; the other ablation cells and every
    mutability cell (protected features) are trained on their own."""
    _, experiments = cfg.resolve({}, ROOT)
    owners = cfg.model_owners(experiments.values())
    for ds in experiments["ablation"].datasets:
        for cell in ("full", "vanilla"):
            assert owners[("ablation", ds, cell, 0)] == ("single", ds, cell, 0)
        for cell in ("energy", "adversarial"):
            assert owners[("ablation", ds, cell, 0)] == ("ablation", ds, cell, 0)
        for cell in ("full", "vanilla"):
            assert owners[("mutability", ds, cell, 0)] == ("mutability", ds, cell, 0)
    trained = {
        (e, d, c) for b in cfg.training_batches(experiments.values()) for e, d, c, _ in b.cells
    }
    assert ("single", "mnist", "full") in trained and ("ablation", "mnist", "full") not in trained
    assert len(trained) == len(set(owners.values()))
    # alone, the ablation trains its own full and vanilla cells
    alone = cfg.model_owners([experiments["ablation"]])
    assert alone[("ablation", "moons", "full", 0)] == ("ablation", "moons", "full", 0)


def test_identical_evaluations_of_a_shared_model_are_made_once():
    """single's evaluation of full and vanilla serves the ablation (same settings, sizes and
    seeds), except on MNIST, whose ablation draws fewer runs; mutability (protected features,
    τ 0.5) evaluates its own models."""
    _, experiments = cfg.resolve({}, ROOT)
    owners = cfg.evaluation_owners(experiments.values())
    for ds in experiments["ablation"].datasets:
        job = ("ablation", ds, "all", "ecco", 0)
        for cell in ("full", "vanilla"):
            expected = job if ds == "mnist" else ("single", ds, "all", "ecco", 0)
            assert owners[(job, cell)] == expected
        for cell in ("energy", "adversarial"):
            assert owners[(job, cell)] == job
        for cell in ("full", "vanilla"):
            job = ("mutability", ds, "all", "ecco", 0)
            assert owners[(job, cell)] == job
    assert sizes.n_runs("mnist", "ablation") != sizes.n_runs("mnist", "single")


def test_a_spec_file_gives_its_jobs_what_the_dag_planned(tmp_path):
    """The spec file keeps the grid's order (the cell ids) and every job's part."""
    _, experiments = cfg.resolve({"scale": "smoke"}, ROOT)
    for exp in experiments.values():
        back = cfg.read_spec(cfg.write_spec(exp, tmp_path / f"{exp.name}.json"))
        assert back.name == exp.name and [c.id for c in back.cells] == [c.id for c in exp.cells]
        ds, cell, seed = exp.datasets[0], exp.cells[0].id, exp.seeds[0]
        assert back.training(ds, cell, seed) == exp.training(ds, cell, seed)
        assert back.performance(ds) == exp.performance(ds)
        for group in exp.groups:
            for protocol in exp.protocols:
                assert back.evaluation(ds, group, protocol) == exp.evaluation(ds, group, protocol)
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(cfg.ConfigError, match=r"bad\.json: not an experiment spec file"):
        cfg.read_spec(tmp_path / "bad.json")


def test_the_pipeline_knows_the_library_names_it_plans_with():
    """The plain-Python copies the DAG uses (so that planning imports no torch) equal the
    library's own."""
    from cftrain import objectives
    from cftrain.data import DATASETS
    from cftrain.vae import CACHE_ENV

    assert sorted(cfg.DATASET_NAMES) == sorted(DATASETS)
    baselines = [o for o in objectives.OBJECTIVES if not objectives.needs_counterfactuals(o)]
    assert baselines == [cfg.BASELINE_OBJECTIVE]
    assert CACHE_ENV == "CFTRAIN_VAE_CACHE"  # set by workflow/rules/common.smk
    assert "CFTRAIN_VAE_CACHE" in (ROOT / "workflow" / "rules" / "common.smk").read_text()
