"""The README's library example runs as written (the documented API cannot go stale)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)  # the data cache goes to tmp_path/data
    monkeypatch.delenv("CFTRAIN_DATA_DIR", raising=False)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    table = namespace["reduction_table"](namespace["table"], average=False).set_index("metric")
    assert bool(table.loc["ip", "star"]) and table.loc["ip", "value"] > 0  # CT beats BL on IP
    assert "percent_mature" in namespace["result"].log.columns
