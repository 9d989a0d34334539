"""Speed measurements; each script writes ``benchmarks/results/<name>.json``."""
