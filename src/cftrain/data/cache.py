"""Processed-dataset cache: one ``.npz`` per (dataset, parameters) plus ``manifest.json``.

Lives in ``<data dir>/processed/`` beside the raw cache; the manifest records, per file,
the dataset, parameters, split sizes, class counts and the raw inputs' sha256 (method §4).

The file name carries a key over everything that changes the output — dataset name,
``n_sigma``, both seeds, the pinned raw digests and :data:`FORMAT` (bumped whenever the
preprocessing changes) — so a stale file is never picked up. Files are written
atomically (temp file in the same directory, then ``os.replace``); an unreadable file
counts as a miss and is rebuilt. Arrays are stored uncompressed so a load is a read.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from cftrain.atomic import atomic_path
from cftrain.data.bundle import Dataset

FORMAT = 1
MANIFEST = "manifest.json"
ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "lower", "upper")


def path_for(directory: Path, name: str, params: dict, raw_sha256: dict[str, str]) -> Path:
    """Cache file of ``name`` built with ``params`` from raw files with these digests."""
    blob = json.dumps(
        {"format": FORMAT, "dataset": name, "params": params, "raw_sha256": raw_sha256},
        sort_keys=True,
    )
    return directory / f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}.npz"


def read(path: Path) -> Dataset | None:
    """The cached dataset, or ``None`` when absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in ARRAYS}
            info = json.loads(str(npz["info"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    return Dataset(
        name=info["name"],
        feature_names=tuple(info["feature_names"]),
        protected=tuple(info["protected"]),
        n_classes=info["n_classes"],
        categorical=tuple(tuple(g) for g in info["categorical"]),
        description=info["description"],
        meta=info["meta"],
        **arrays,
    )


def write(path: Path, ds: Dataset) -> None:
    """Store ``ds`` at ``path`` and record it in the directory's manifest."""
    info = {
        "name": ds.name,
        "feature_names": list(ds.feature_names),
        "protected": list(ds.protected),
        "n_classes": ds.n_classes,
        "categorical": [list(g) for g in ds.categorical],
        "description": ds.description,
        "meta": ds.meta,
    }
    with atomic_path(path) as tmp:
        np.savez(tmp, info=np.array(json.dumps(info)), **{k: getattr(ds, k) for k in ARRAYS})
    _record(path, ds)


def _record(path: Path, ds: Dataset) -> None:
    manifest_path = path.parent / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    manifest[path.name] = {
        "dataset": ds.name,
        "params": ds.meta.get("params"),
        "raw_sha256": ds.meta.get("raw_sha256"),
        "sizes": {
            "train": len(ds.y_train),
            "val": len(ds.y_val),
            "test": len(ds.y_test),
            "features": ds.n_features,
        },
        "class_counts": ds.meta.get("class_counts"),
    }
    with atomic_path(manifest_path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
