"""Executing a figure notebook (``paper/notebooks/*.py``, jupytext percent format).

The notebook's cell tagged ``parameters`` holds defaults a person can edit in Jupyter; the
workflow injects its values in a cell right after it (as papermill does), executes the
notebook with nbclient, and stores the executed ``.ipynb`` for inspection. A failing cell
raises :class:`NotebookError` carrying the cell's traceback; missing declared figures are an
error too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from cftrain.atomic import atomic_path
from cftrain.pipeline.reporting.figures import figure_paths

TIMEOUT_S = 1800


class NotebookError(RuntimeError):
    """A notebook cell failed or the notebook did not write its declared figures."""


def inject_parameters(nb: nbformat.NotebookNode, params: Mapping[str, object]) -> None:
    """Insert a cell assigning ``params`` after the ``parameters``-tagged cell (or first)."""
    source = "# Parameters injected by cftrain report notebook\n" + "".join(
        f"{key} = {value!r}\n" for key, value in params.items()
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    tagged = [
        i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    nb.cells.insert(tagged[0] + 1 if tagged else 0, cell)


def run_notebook(
    path: str | Path,
    params: Mapping[str, object],
    figures_dir: str | Path,
    figures: list[str],
    executed: str | Path | None = None,
    cwd: str | Path = ".",
) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` with ``params``; check it wrote ``figures``."""
    nb = jupytext.read(path)
    inject_parameters(nb, params)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        raise NotebookError(f"{path}: a cell failed\n{err}") from None
    finally:
        if executed is not None:
            with atomic_path(executed) as tmp:
                nbformat.write(nb, tmp)
    missing = [str(p) for p in figure_paths(figures_dir, figures) if not p.is_file()]
    if missing:
        raise NotebookError(f"{path}: ran but did not write its figures: {', '.join(missing)}")
    return nb
