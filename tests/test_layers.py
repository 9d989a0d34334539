"""The library's layers (issue 28): the core never imports the pipeline, no import cycles.

The graph is read from the source (every ``import`` statement, function-level ones too), so a
lazy import cannot hide a cycle or an upward dependency; imports only for type checkers
(``if TYPE_CHECKING:``) never run and are left out. ``from pkg import name`` counts as an
import of ``pkg.name`` where that is a module, else of ``pkg``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"
PIPELINE = "cftrain.pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """cftrain module → the cftrain modules it imports."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
            for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{a.name}"
                    if f"{node.module}.{a.name}" in modules
                    else node.module
                    for a in node.names
                ]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_core_never_imports_the_pipeline():
    graph = import_graph()
    upward = [
        (a, b) for a, b in graph.edges if not a.startswith(PIPELINE) and b.startswith(PIPELINE)
    ]
    assert upward == []
    assert any(a.startswith(PIPELINE) for a, _ in graph.edges)  # the graph is really read


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == []


def test_graph_sees_a_cycle_and_an_upward_import(tmp_path, monkeypatch):
    """The checks can fail: a planted cycle and a planted upward import are found."""
    pkg = tmp_path / "cftrain"
    (pkg / "pipeline").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cftrain import c\n"
        "def f():\n    from cftrain import b\n"
    )
    (pkg / "c.py").write_text("from cftrain import a\n")
    (pkg / "b.py").write_text("import cftrain.a\nfrom cftrain.pipeline import jobs\n")
    (pkg / "pipeline" / "__init__.py").write_text("")
    (pkg / "pipeline" / "jobs.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    graph = import_graph()
    assert [sorted(c) for c in nx.simple_cycles(graph)] == [["cftrain.a", "cftrain.b"]]
    assert ("cftrain.b", "cftrain.pipeline.jobs") in graph.edges


_NO_TORCH = "import sys; sys.modules['torch'] = None; "  # any `import torch` now raises


def test_planning_the_workflow_imports_no_torch(tmp_path):
    """Snakemake parses the workflow and plans every job of the smoke and paper scales (a dry
    run) in a process where torch cannot be imported."""
    snakemake = _NO_TORCH + "from snakemake.cli import main; main()"
    for scale in ("smoke", "paper"):
        run = subprocess.run(
            [sys.executable, "-c", snakemake, "-n", "--quiet", "rules", "-s",
             str(SRC.parent / "Snakefile"), "-d", str(tmp_path), "--config", f"scale={scale}"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        assert "train" in run.stdout + run.stderr


def test_torch_is_really_blocked_in_that_process():
    run = subprocess.run(
        [sys.executable, "-c", _NO_TORCH + "import cftrain.training"], capture_output=True
    )
    assert run.returncode != 0 and b"torch" in run.stderr
