"""The pipeline layer: experiment configs, job specs, the ``cftrain`` command line, tables
and the paper's reporting.

It drives the core library (data, models, search, generators, training, evaluation) for
the Snakemake workflow and for users running single jobs by hand; the core never imports
from here (``tests/test_layers.py``).
"""
