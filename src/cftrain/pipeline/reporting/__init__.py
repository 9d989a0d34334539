"""The report side (issue 15): generated macros and tables for the paper, figure notebooks'
helpers, the comparison with the published numbers, and the PDF build."""

from cftrain.pipeline.reporting.compare import comparison, published
from cftrain.pipeline.reporting.macros import collect_macros, write_macros
from cftrain.pipeline.reporting.report import GENERATED, build_report

__all__ = ["GENERATED", "build_report", "collect_macros", "comparison", "published", "write_macros"]
