"""Bad input to the ``cftrain`` command (issue 26): one line naming the file, key or argument
and what is allowed, exit status 2, no traceback; the help says what each stage takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cftrain import checkpoint, models
from cftrain.pipeline import config as cfg
from cftrain.pipeline import jobs
from cftrain.pipeline.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """A spec file (experiment ``unit`` on moons), a hand-edited copy for each bad case, a file
    where a folder belongs, and a trained-looking model folder."""
    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    spec = {"datasets": ["moons"], "train": {"fixed": {"nepochs": 1, "nce": 60}}}
    good = cfg.write_spec(cfg.Experiment("unit", cfg.validate(spec, schema, "x")), tmp_path / "s")
    raw = json.loads(good.read_text())
    texts = {
        "malformed": '{"name": "unit", "spec": {',
        "list": "[1, 2]",
        "single_quotes": "{'name': 'unit'}",
        "no_datasets": json.dumps({"name": "unit", "spec": {"seeds": [0]}}),
        "nce": json.dumps({**raw, "spec": {**raw["spec"], "train": {"fixed": {"nce": 5000}}}}),
    }
    out = {"spec": good, "file": tmp_path / "a_file", "model": tmp_path / "model"}
    for name, text in texts.items():
        out[name] = tmp_path / f"{name}.json"
        out[name].write_text(text)
    out["file"].write_text("")
    out["model"].mkdir()
    params = {"model": "mlp", "model_options": {}, "seed": 0, "cell": "full", "config": {}}
    (out["model"] / "params.json").write_text(json.dumps(params))
    torch.save(models.build("mlp", 2, 2).state_dict(), out["model"] / "model.pt")
    return out


def _train(spec, dataset="moons", cell="full", out="out", seed="0") -> list[str]:
    return ["train", "--spec", str(spec), "--dataset", dataset, "--cell", cell,
            "--seed", seed, "--out", str(out), "--device", "cpu"]  # fmt: skip


def _evaluate(spec, group="all", protocol="ecco") -> list[str]:
    return ["evaluate", "--spec", str(spec), "--dataset", "moons", "--group", group,
            "--protocol", protocol, "--model", "full=x", "--seed", "0",
            "--out", "e.parquet"]  # fmt: skip


def _aggregate(options: str, tables: str = "main") -> list[str]:
    return ["aggregate", "--tables", tables, "--options", options, "--out-dir", "t"]


def _performance(f) -> list[str]:
    return ["performance", "--spec", str(f["spec"]), "--dataset", "moons",
            "--models", str(f["model"]), "--out", str(f["model"] / "p.csv"),
            "--device", "cpu"]  # fmt: skip


def _spoil(f, name: str, content: bytes | None) -> None:
    path = f["model"] / name
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)


#: case → (files → argv, how to spoil the model folder first, words on stderr)
CASES = {
    "spec: malformed JSON": (lambda f: _train(f["malformed"]), None,
                             ["malformed.json: not an experiment spec file", "line 1 column"]),
    "spec: a JSON list": (lambda f: _train(f["list"]), None,
                          ["list.json: not an experiment spec file (a JSON list)", '"name"']),
    "spec: single quotes": (lambda f: _train(f["single_quotes"]), None,
                            ["single_quotes.json", "double quotes"]),
    "spec: a required key missing": (lambda f: _train(f["no_datasets"]), None,
                                     ["no_datasets.json: key '<top level>'", "'datasets'"]),
    "spec: no such file": (lambda f: _train(f["spec"].with_name("none.json")), None,
                           ["none.json: not an experiment spec file", "No such file"]),
    "spec: nce above the training points": (lambda f: _train(f["nce"]), None,
                                            ["nce.json: key 'train.fixed.nce'", "1..3001"]),
    "--dataset not the experiment's": (lambda f: _train(f["spec"], dataset="moonz"), None,
                                       ["no dataset 'moonz'", "allowed values: ['moons']"]),
    "--cell not the experiment's": (lambda f: _train(f["spec"], cell="ful"), None,
                                    ["no cell 'ful'", "allowed values: ['full', 'vanilla']"]),
    "--out a file": (lambda f: _train(f["spec"], out=f["file"]), None,
                     ["--out", "a_file: is a file; expected a folder"]),
    "--out under a file": (lambda f: _train(f["spec"], out=f["file"] / "x"), None,
                           ["a_file is a file, so a folder cannot go there"]),
    "--group not the experiment's": (lambda f: _evaluate(f["spec"], group="al"), None,
                                     ["no group 'al'", "allowed values: ['all']"]),
    "--protocol not the experiment's": (lambda f: _evaluate(f["spec"], protocol="eco"), None,
                                        ["no protocol 'eco'", "allowed values: ['ecco']"]),
    "--options malformed": (lambda f: _aggregate("{'treatment': 'full'}"), None,
                            ["--options: not valid JSON", "double quotes"]),
    "--options a list": (lambda f: _aggregate('["full"]'), None,
                         ["--options: expected a JSON object", "got a list"]),
    "--options an unknown key": (lambda f: _aggregate('{"treatmnt": "full"}'), None,
                                 ["unknown keys ['treatmnt']", "'treatment', 'baseline'"]),
    "--options treatment = baseline": (lambda f: _aggregate('{"treatment": "vanilla"}'), None,
                                       ["treatment='vanilla' equals baseline"]),
    "--options a bad metric": (lambda f: _aggregate('{"metrics": ["ip*"]}'), None,
                               ["metrics=['ip*']", "['ip', 'mmd', 'cost']"]),
    "--tables an unknown table": (lambda f: _aggregate("{}", tables="mian"), None,
                                  ["invalid choice: 'mian'", "'costs_unconstrained'"]),
    "data: an unknown dataset": (lambda f: ["data", "moonz", "--out", "x.json"], None,
                                 ["invalid choice: 'moonz'", "'lin_sep'", "'mnist'"]),
    "model.pt truncated": (_performance, ("model.pt", b"PK\x03\x04 short"),
                           ["model/model.pt: not a readable model file"]),
    "model.pt empty": (_performance, ("model.pt", b""),
                       ["model/model.pt: not a readable model file"]),
    "model.pt of other shapes": (_performance, ("model.pt", None),
                                 ["model/model.pt: its weights do not fit a mlp model for moons",
                                  "size mismatch"]),
    "params.json missing": (_performance, ("params.json", None),
                            ["model/params.json: not the params.json of a trained cell"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_command_line_input_is_one_clear_line(case, files, capsys, tmp_path, monkeypatch):
    argv, spoil, words = CASES[case]
    if spoil == ("model.pt", None):  # weights of a 5-feature model
        torch.save(models.build("mlp", 5, 2).state_dict(), files["model"] / "model.pt")
    elif spoil:
        _spoil(files, *spoil)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv(files))
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert all(w in err for w in words), err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing was trained


def test_a_bad_checkpoint_names_the_restart_option_and_restart_works(files, tmp_path, capsys):
    """The CheckpointError said "pass restart=True", an option neither cftrain nor the
    workflow had. The job also trains the seed it is given: one seed field (a cell JSON's
    ``seed`` and its config's could differ before: labelled seed 1, weights of seed 0)."""
    spec = cfg.read_spec(files["spec"]).training("moons", "full", 1)
    folder = jobs._checkpoint_dir(tmp_path / "out", jobs.training_config(spec))
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes(b"corrupt")
    argv = _train(files["spec"], out=tmp_path / "out", seed="1")
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert f"{folder / 'checkpoint.pt'} is not a cftrain-checkpoint-v1 file" in err
    assert "`cftrain train ... --restart`" in err and "`--config restart=True`" in err
    assert "pass restart=True" not in err
    main([*argv, "--restart"])
    assert capsys.readouterr().out.startswith("trained unit/moons/full/seed1: 1 epochs")
    params = json.loads((tmp_path / "out" / "params.json").read_text())
    assert params["seed"] == params["config"]["seed"] == 1
    assert not folder.exists()  # the finished job removes its checkpoint
    assert checkpoint.RESTART_HINT  # the library's own hint (restart=True) is unchanged


def test_the_workflow_restart_option_reaches_cftrain_train(monkeypatch, files):
    monkeypatch.setenv("CFTRAIN_RESTART", "1")  # what --config restart=True sets for jobs
    assert build_parser().parse_args(_train(files["spec"])).restart
    monkeypatch.delenv("CFTRAIN_RESTART")
    assert not build_parser().parse_args(_train(files["spec"])).restart


#: argv → words the output has
HELP = {
    "top level": (["--help"], ["cftrain train --spec", "--cell full --seed 0", "<stage>"]),
    "train": (["train", "--help"], ["lambda_energy → egy", "full_ecco_cost0.001_egy5_T20",
                                     "--restart", "model.pt, log.csv"]),
    "data": (["data", "--help"], ["one of: lin_sep, circles, moons", "mnist"]),
    "aggregate": (["aggregate", "--help"], ["one or more of: main, costs_unconstrained",
                                             "treatment (default", "grid_keys"]),
    "version": (["--version"], ["cftrain 0.1.0"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(HELP))
def test_help_says_what_each_stage_takes(case, capsys):
    argv, words = HELP[case]
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert info.value.code == 0
    assert all(" ".join(w.split()) in out for w in words), out
    assert "``" not in out  # no reStructuredText markup
