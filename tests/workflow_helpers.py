"""Running the repository's Snakefile from tests: environment, command, the smoke scale, and
a fresh clone of the working tree."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cftrain.pipeline import paths

ROOT = Path(__file__).resolve().parents[1]
DATA_MIRROR = ROOT.parent / "shared" / "data"  # as in conftest.py
SMOKE = ["--config", "scale=smoke"]
SMOKE_ROOT = paths.root("smoke")  # results/smoke: where a smoke run writes
#: a smoke run's models (not the copies a killed batch keeps under <exp>/<dataset>/batches/)
SMOKE_MODELS = f"{SMOKE_ROOT}/*/*/*/seed*/model.pt"
TIMEOUT_S = 1800  # a loaded 2-core machine; an idle one needs a few minutes


def run_env(**extra: str) -> dict[str, str]:
    """The test process's environment with the venv's scripts (``cftrain``) on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CFTRAIN_DATA_MIRROR", str(DATA_MIRROR))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.pop("CFTRAIN_DATA_DIR", None)  # each run caches data in its own directory
    env.update(extra)
    return env


def command(workdir: Path, *args: str, repo: Path = ROOT) -> list[str]:
    return [
        sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"),
        "--directory", str(workdir), *args,
    ]  # fmt: skip


def snakemake(
    workdir: Path, *args: str, env: dict | None = None, repo: Path = ROOT
) -> subprocess.CompletedProcess:
    """``repo``'s Snakefile run in ``workdir`` (a clone runs its own: ``repo=workdir``)."""
    return subprocess.run(
        command(workdir, *args, repo=repo),
        capture_output=True,
        text=True,
        env=env or run_env(),
        timeout=TIMEOUT_S,
    )


def git(repo: Path, *args: str) -> str:
    run = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def fresh_clone(dest: Path) -> Path:
    """A new repository at ``dest`` holding this checkout's working tree as git would commit it
    (tracked files, deletions and untracked files that are not ignored; one commit), so a
    test of a working tree with uncommitted changes tests that tree, as a clone of it would.
    Nothing ignored comes along: no results/, data/, .snakemake/ or virtual environment."""
    files = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    dest.mkdir(parents=True)
    for rel in filter(None, files.split("\0")):
        source = ROOT / rel
        if source.is_file() and not source.is_symlink():  # a deleted tracked file is skipped
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "tree")
    return dest


def incomplete(workdir: Path) -> set[str]:
    """Outputs Snakemake marks as incomplete (base64 names in .snakemake/incomplete)."""
    marks = workdir / ".snakemake" / "incomplete"
    return {base64.b64decode(p.name).decode() for p in marks.iterdir()} if marks.is_dir() else set()


def flip_bytes(path: Path, at: int | None = None, n: int = 4) -> None:
    """Invert ``n`` bytes of a file at offset ``at`` (default: its middle); size unchanged."""
    data = bytearray(path.read_bytes())
    start = len(data) // 2 if at is None else at
    for i in range(start, start + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def flip_in_column(path: Path, column: str = "ip", n: int = 4) -> None:
    """Invert ``n`` bytes in the middle of a parquet file's stored values of ``column`` (its
    first row group), as a damaged disk or transfer would: the file may still be read."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata.row_group(0)
    names = [meta.column(i).path_in_schema for i in range(meta.num_columns)]
    chunk = meta.column(names.index(column))
    flip_bytes(path, chunk.data_page_offset + chunk.total_compressed_size // 2, n)
