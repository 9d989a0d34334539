"""Run every benchmark in turn (``make bench``); each writes ``results/<name>.json``."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("search", "training", "evaluation", "workflow", "slurm")


def main() -> None:
    for name in BENCHMARKS:
        print(f"== benchmarks.{name}", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], check=True)


if __name__ == "__main__":
    main()
