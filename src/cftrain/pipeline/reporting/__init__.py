"""The report side: generated macros and tables for the paper, the figure notebooks' helpers,
the comparison with the published numbers, and the PDF build.

Import the submodule you need: the package itself imports nothing, so the workflow's parse
step can read the light ones (``figures``, ``tables``) without the training stack.
"""
