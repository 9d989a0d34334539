"""``python -m cftrain.pipeline.reporting <subcommand>`` = ``cftrain report <subcommand>``."""

from cftrain.pipeline.reporting.cli import main

main()
