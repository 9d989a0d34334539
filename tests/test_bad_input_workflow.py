"""Bad input to the workflow (issue 26): every case stops the run before any job, naming the
file, the key, the value and what is allowed. Nothing is trained: the checks run when the
experiments are loaded (parse time) or in the workflow's onstart."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from cftrain import sizes
from cftrain.data import load
from cftrain.pipeline import config as cfg
from cftrain.training_config import TrainingConfig
from workflow_helpers import ROOT, TIMEOUT_S, run_env, snakemake

MOONS = {"datasets": ["moons"]}

#: experiment file content → words its error has (the file is named too)
BAD_EXPERIMENTS = {
    "treatment equal to the baseline": (
        {**MOONS, "table_options": {"treatment": "vanilla"}},
        ["key 'table_options.treatment'", "'vanilla' equals table_options.baseline"],
    ),
    "treatment typo": (
        {**MOONS, "table_options": {"treatment": "ful"}},
        ["key 'table_options.treatment'", "'ful'", "allowed values: ['full', 'vanilla']"],
    ),
    "group_by on a key the grid lacks": (
        {**MOONS, "evaluation": {"group_by": ["generator"]}},
        ["key 'evaluation.group_by'", "'generator'", "allowed values: ['objective']"],
    ),
    "empty grid": ({**MOONS, "train": {"grid": {}}}, ["key 'train.grid'", "non-empty"]),
    "unknown final_options key": (
        {**MOONS, "final_options": {"synthetic_mutabilty": "final"}},
        ["key 'final_options'", "'synthetic_mutabilty'", "['synthetic_mutability']"],
    ),
    "nce above the training points": (
        {**MOONS, "train": {"fixed": {"nce": 5000}}},
        ["key 'train.fixed.nce'", "nce=5000", "3001 training points", "1..3001"],
    ),
    "burn-in covering every epoch": (
        {**MOONS, "train": {"fixed": {"nepochs": 1, "burnin": 0.99}}},
        ["key 'train.fixed.burnin'", "cell 'full' on moons", "burnin=0.99", "nepochs=1"],
    ),
    "a grid without a vanilla cell": (
        {**MOONS, "train": {"grid": {"objective": ["full"]}}},
        ["key 'table_options.baseline'", "'vanilla'", "no vanilla cell"],
    ),
    "a table whose input is not measured": (
        {**MOONS, "tables": ["ig"]},
        ["key 'tables'", "'ig' needs performance.ig: true"],
    ),
    "YAML syntax error": ("datasets: [moons\nseeds: [0]\n", ["line 2, column 6", "not valid YAML"]),
}


def _copy(tmp_path: Path) -> Path:
    """The workflow's files in a folder of its own: Snakefile, workflow/ and config/ copied
    (to be spoilt), paper/ linked (the paper rule's sources)."""
    root = tmp_path / "repo"
    for name in ("workflow", "config"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "Snakefile", root / "Snakefile")
    (root / "paper").symlink_to(ROOT / "paper")
    return root


def _write(root: Path, content: dict | str) -> Path:
    path = root / "config" / "experiments" / "bad.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


@pytest.mark.parametrize("case", list(BAD_EXPERIMENTS))
def test_a_bad_experiment_is_refused_when_it_is_loaded(tmp_path, case):
    content, words = BAD_EXPERIMENTS[case]
    root = _copy(tmp_path)
    path = _write(root, content)
    with pytest.raises(cfg.ConfigError) as info:
        cfg.resolve({"experiments": ["bad"]}, root)
    message = str(info.value)
    assert message.startswith(str(path)) and all(w in message for w in words), message


def test_a_bad_config_file_is_named_with_its_line(tmp_path):
    root = _copy(tmp_path)
    (root / "config" / "config.yaml").write_text("scale: paper\ndevice: [cpu\n")
    with pytest.raises(cfg.ConfigError, match=r"config\.yaml, line 3, column 1: not valid YAML"):
        cfg.resolve({}, root)


#: through Snakemake: --config, the file's content, words on stderr
WORKFLOW_CASES = {
    "treatment equal to the baseline": ([], BAD_EXPERIMENTS["treatment equal to the baseline"]),
    "nce above the training points": ([], BAD_EXPERIMENTS["nce above the training points"]),
    "YAML syntax error in config/config.yaml": (
        [],
        (None, ["config/config.yaml, line 3, column 1: not valid YAML"]),
    ),
    "device=cuda without a GPU": (
        ["device=cuda"],
        (MOONS, ["key 'device'", "device=cuda was requested but torch sees no GPU"]),
    ),
}


@pytest.mark.parametrize("case", list(WORKFLOW_CASES))
def test_the_workflow_stops_before_any_job(tmp_path, case):
    config, (content, words) = WORKFLOW_CASES[case]
    if "cuda" in case and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    root = _copy(tmp_path)
    if content is None:
        (root / "config" / "config.yaml").write_text("scale: paper\ndevice: [cpu\n")
    else:
        _write(root, content)
    work = tmp_path / "work"
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile"), "-d", str(work),
         "--cores", "1", "--config", "experiments=[bad]", *config],
        capture_output=True, text=True, env=run_env(), timeout=TIMEOUT_S,
    )  # fmt: skip
    assert run.returncode != 0
    assert all(w in run.stderr for w in words), run.stderr[-2000:]
    assert not (work / "results").exists()  # no job ran: not even the spec or data job


def test_restart_is_a_workflow_option(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "experiments=[single]", "restart=True")
    assert run.returncode == 0, run.stderr[-2000:]
    run = snakemake(tmp_path, "-n", "--config", "experiments=[single]", "restart=yes")
    assert run.returncode != 0 and "instance['restart']" in run.stdout + run.stderr


def test_the_dag_time_copies_equal_the_library():
    """The plain-Python values the checks use (planning imports no torch) are the library's."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainingConfig)}
    assert {k: defaults[k] for k in cfg.TRAINING_DEFAULTS} == cfg.TRAINING_DEFAULTS
    for name in sizes.SYNTHETIC:  # the real datasets' counts are their built sizes too
        assert sizes.TRAINING_POINTS[name] == load(name).y_train.size
    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    options = schema["properties"]["table_options"]["properties"]
    assert {k: v["default"] for k, v in options.items()} == {
        k: cfg.TABLE_OPTIONS[k] for k in options
    }
    assert set(cfg.COMPARED_CELLS) | set(cfg.MEASURED) <= set(cfg.TABLE_INPUTS)
