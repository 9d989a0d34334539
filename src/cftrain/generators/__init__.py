"""Counterfactual generators: each a penalty and a state space for the one search loop."""

from cftrain.generators.base import Generator
from cftrain.generators.ecco import ECCo, energy_schedule
from cftrain.generators.generic import Generic
from cftrain.generators.omniscient import Omniscient
from cftrain.generators.revise import REVISE

__all__ = ["REVISE", "ECCo", "Generator", "Generic", "Omniscient", "energy_schedule"]
