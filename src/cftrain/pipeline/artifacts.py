"""Artifacts checked where they are read (issue 24): a model or an evaluation table carries its
digest and the identity of what produced it, and a reader refuses one that does not match.

* A model folder's ``params.json`` records ``model_sha256`` (the SHA-256 of ``model.pt`` as
  written) and the identity of the training job: dataset, cell, seed and ``model_digest``
  (:func:`cftrain.pipeline.config.model_digest`, equal for identical models of two
  experiments). :func:`check_model` recomputes the file's digest and compares the identity with
  the one asked for.
* An evaluation table (parquet) embeds its identity in its metadata (``attrs``): experiment,
  dataset, group, protocol, training seed, the digest of its evaluation settings, each cell's
  model digest, and ``content_sha256``, a digest of the table's values
  (:func:`frame_digest`). :func:`read_evaluation` recomputes and compares both.

A mismatch raises :class:`RefusedArtifact` naming the file; ``cftrain`` run by the workflow
(``--quarantine``) then renames the file to ``<name>.refused``, so that the next ``snakemake``
reruns exactly the job that produces it. Plain Python and pandas, no torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from cftrain.pipeline import config as cfg
from cftrain.pipeline.paths import REFUSED_SUFFIX

MODEL_FILE = "model.pt"
PARAMS_FILE = "params.json"
#: the parquet ``attrs`` key of an evaluation table's identity
IDENTITY = "cftrain_identity"
#: the fields of a model's identity, as ``params.json`` records them
MODEL_FIELDS = ("dataset", "cell", "seed", "model_digest")
#: the fields of an evaluation table's identity (besides its content digest)
EVALUATION_FIELDS = (
    "experiment",
    "dataset",
    "group",
    "protocol",
    "seed",
    "evaluation_digest",
    "models",
)


class RefusedArtifact(ValueError):
    """A file whose digest or identity does not match what its reader was asked for."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"refused {self.path}: {reason}")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quarantine(path: str | Path) -> Path:
    """Move a refused file aside (``<name>.refused``, replacing an older one), so the workflow
    sees its output missing and reruns the job that produces it."""
    path = Path(path)
    target = path.with_name(path.name + REFUSED_SUFFIX)
    path.replace(target)
    return target


# --- models ---------------------------------------------------------------------------------


def model_identity(training: Mapping[str, Any]) -> dict[str, Any]:
    """The identity of the model a training job (:meth:`Experiment.training`) trains."""
    return {
        "dataset": training["dataset"],
        "cell": training["cell"],
        "seed": int(training["seed"]),
        "model_digest": cfg.model_digest(training),
    }


def expected_model(exp: cfg.Experiment, dataset: str, cell: str, seed: int) -> dict[str, Any]:
    """The identity of experiment ``exp``'s model of (dataset, cell, seed)."""
    return model_identity(exp.training(dataset, cell, int(seed)))


def sidecar(training: Mapping[str, Any], model_file: str | Path) -> dict[str, Any]:
    """What ``params.json`` records of a model just written: its digest and identity."""
    return {**model_identity(training), "model_sha256": sha256_file(model_file)}


def _describe(identity: Mapping[str, Any]) -> str:
    digest = identity.get("model_digest")
    return (
        f"dataset {identity.get('dataset')!r}, cell {identity.get('cell')!r}, seed "
        f"{identity.get('seed')!r}, config {str(digest)[:12] if digest else 'unknown'}"
    )


def check_model(
    model_dir: str | Path,
    expected: Mapping[str, Any] | None = None,
    dataset: str | None = None,
) -> dict[str, Any]:
    """``params.json`` of a model folder once ``model.pt`` matches the digest recorded there
    and the identity matches ``expected`` (the fields given: :data:`MODEL_FIELDS`) and
    ``dataset``; else :class:`RefusedArtifact` naming the file."""
    model_dir = Path(model_dir)
    params_file, model_file = model_dir / PARAMS_FILE, model_dir / MODEL_FILE
    try:
        params = json.loads(params_file.read_text())
    except (OSError, ValueError) as err:
        raise RefusedArtifact(params_file, f"unreadable ({err})") from None
    if not isinstance(params, dict):
        raise RefusedArtifact(params_file, "not a model's params.json")
    recorded = params.get("model_sha256")
    if not recorded:
        raise RefusedArtifact(
            model_file, f"{PARAMS_FILE} records no digest of it (written by an older cftrain?)"
        )
    try:
        actual = sha256_file(model_file)
    except OSError as err:
        raise RefusedArtifact(model_file, f"unreadable ({err})") from None
    if actual != recorded:
        raise RefusedArtifact(
            model_file,
            f"its SHA-256 is {actual[:16]}…, not the {recorded[:16]}… recorded in "
            f"{PARAMS_FILE} when it was trained: the file changed after it was written",
        )
    wanted = dict(expected or {})
    if dataset is not None:
        wanted["dataset"] = dataset
    wrong = [k for k in MODEL_FIELDS if k in wanted and params.get(k) != wanted[k]]
    if wrong:
        raise RefusedArtifact(
            model_file,
            f"it is the model of {_describe(params)}, not of {_describe({**params, **wanted})} "
            f"as asked ({', '.join(wrong)} differ)",
        )
    return params


# --- evaluation tables ----------------------------------------------------------------------


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes and values (not its ``attrs``), row order included."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    for column in frame.columns:
        values = pd.util.hash_pandas_object(frame[column], index=False).to_numpy()
        digest.update(values.tobytes())
    return digest.hexdigest()


def evaluation_identity(
    evaluation: Mapping[str, Any], seed: int, models: Mapping[str, str]
) -> dict[str, Any]:
    """The identity of an evaluation job's table: its part of the spec
    (:meth:`Experiment.evaluation`), the training seed and each cell's model digest."""
    return {
        "experiment": evaluation["experiment"],
        "dataset": evaluation["dataset"],
        "group": evaluation["group"],
        "protocol": evaluation["protocol"],
        "seed": int(seed),
        "evaluation_digest": cfg.digest(evaluation),
        "models": dict(sorted(models.items())),
    }


def expected_evaluation(
    exp: cfg.Experiment, dataset: str, group: str, protocol: str, seed: int
) -> dict[str, Any]:
    """The identity of experiment ``exp``'s evaluation table of these coordinates."""
    models = {
        c.id: expected_model(exp, dataset, c.id, seed)["model_digest"] for c in exp.groups[group]
    }
    return evaluation_identity(exp.evaluation(dataset, group, protocol), seed, models)


def expected_evaluations(exp: cfg.Experiment) -> dict[tuple, dict[str, Any]]:
    """(dataset, group, protocol, seed) → identity, for every evaluation job of ``exp``."""
    return {
        (d, g, p, s): expected_evaluation(exp, d, g, p, s)
        for d in exp.datasets
        for g in exp.groups
        for p in exp.protocols
        for s in exp.seeds
    }


def coordinates(identity: Mapping[str, Any]) -> tuple:
    """(dataset, group, protocol, seed) of an evaluation identity."""
    return (identity["dataset"], identity["group"], identity["protocol"], int(identity["seed"]))


def stamp(table: pd.DataFrame, identity: Mapping[str, Any]) -> pd.DataFrame:
    """``table`` with its identity and content digest in ``attrs`` (written with the parquet)."""
    table.attrs[IDENTITY] = {**identity, "content_sha256": frame_digest(table)}
    return table


def read_evaluation(path: str | Path, expected: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """An evaluation table whose values match the digest it carries and whose identity matches
    ``expected`` (the fields given; ``models`` may name a subset of the cells); else
    :class:`RefusedArtifact` naming the file."""
    try:
        table = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise RefusedArtifact(
            path, f"unreadable as parquet ({type(err).__name__}: {err})"
        ) from None
    identity = table.attrs.get(IDENTITY)
    if not isinstance(identity, dict) or "content_sha256" not in identity:
        raise RefusedArtifact(path, "it carries no identity (written by an older cftrain?)")
    if frame_digest(table) != identity["content_sha256"]:
        raise RefusedArtifact(
            path, "its values do not match the digest written with them: the file changed"
        )
    wanted = dict(expected or {})
    wrong = [
        k
        for k in EVALUATION_FIELDS
        if k in wanted and k != "models" and identity.get(k) != wanted[k]
    ]
    models = identity.get("models") or {}
    wrong += [
        f"model of cell {c!r}"
        for c, d in (wanted.get("models") or {}).items()
        if models.get(c) != d
    ]
    if wrong:
        shown = {k: identity.get(k) for k in EVALUATION_FIELDS if k != "models"}
        raise RefusedArtifact(
            path, f"it is the evaluation {shown}; asked for another ({', '.join(wrong)} differ)"
        )
    return table
