"""``python -m cftrain.reporting <subcommand>`` = ``cftrain report <subcommand>``."""

import sys

from cftrain.reporting.cli import main

sys.exit(main())
