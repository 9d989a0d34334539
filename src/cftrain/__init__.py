"""cftrain: Counterfactual Training (Altmeyer et al., SaTML 2026) in PyTorch.

Dtype and device policy, stated once: every tensor a function creates follows the
dtype and device of the model (or of its main input tensor); nothing moves data
between devices implicitly. Randomness enters only through explicit
``torch.Generator`` / ``numpy.random.Generator`` arguments, never global state.
"""

__version__ = "0.1.0"
