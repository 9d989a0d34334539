"""The README's library example and docs/own-data.md's examples run as written (the documented
API cannot go stale)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
OWN_DATA = ROOT / "docs" / "own-data.md"


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


def _run(path: Path, tmp_path, monkeypatch) -> dict:
    blocks = _python_blocks(path)
    assert blocks, f"{path.name} has no python example"
    monkeypatch.chdir(tmp_path)  # the data cache goes to tmp_path/data
    monkeypatch.delenv("CFTRAIN_DATA_DIR", raising=False)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
    return namespace


def test_readme_python_example_runs(tmp_path, monkeypatch):
    namespace = _run(README, tmp_path, monkeypatch)
    table = namespace["reduction_table"](namespace["table"], average=False).set_index("metric")
    assert bool(table.loc["ip", "star"]) and table.loc["ip", "value"] > 0  # CT beats BL on IP
    assert "percent_mature" in namespace["result"].log.columns


def test_own_data_examples_run(tmp_path, monkeypatch):
    namespace = _run(OWN_DATA, tmp_path, monkeypatch)  # the examples assert their own claims
    assert (tmp_path / "runs" / "loans" / "checkpoint.pt").is_file()
    assert namespace["run"].log["epoch"].iloc[-1] == 10
