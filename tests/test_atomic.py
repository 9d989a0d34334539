"""Atomic writes: the target appears whole or keeps its old content, and no temp file remains."""

from __future__ import annotations

import numpy as np
import pytest

from cftrain.atomic import atomic_path


def test_success_replaces_and_keeps_suffix(tmp_path):
    target = tmp_path / "sub" / "arrays.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".npz"
        np.savez(tmp, a=np.arange(3))  # savez appends .npz unless the name already has it
    assert np.load(target)["a"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in target.parent.iterdir()) == ["arrays.npz"]


def test_failure_keeps_old_content_and_cleans_up(tmp_path):
    target = tmp_path / "log.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["log.json"]
