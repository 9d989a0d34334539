"""``python -m cftrain.reporting <subcommand>`` = ``cftrain report <subcommand>``."""

from cftrain.reporting.cli import main

main()
