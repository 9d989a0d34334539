"""CT changes what it should: on circles, with the final hyperparameters (method §0), the CT
model's mature counterfactuals lie closer to the target class than the vanilla model's.

The paper reports a 59% IP reduction on circles (method §6.1); this test asks for at least 30%.
IP here is the exact mean L1 distance to *all* target-class test points (the reference's
1000 draws with replacement estimate the same mean), averaged over the five evaluation
λ_egy values of method §5.2 (ECCo, λ_cost 0, τ 0.95, T 50, step 0.1).
"""

from __future__ import annotations

import torch

from cftrain.data import load
from cftrain.evaluation import LAMBDA_ENERGIES
from cftrain.experiment import train_cell
from cftrain.generators import ECCo
from cftrain.search import search
from cftrain.training import final_config


def _mean_ip(model: torch.nn.Module, data) -> tuple[float, float]:
    """Mean over λ_egy of the mean IP of mature counterfactuals of all test points towards
    the class the model does not predict; also the lowest maturity rate."""
    x, y = data.tensors("test")
    with torch.no_grad():
        target = 1 - model(x).argmax(1)
    per_lambda, maturity = [], []
    for lam in LAMBDA_ENERGIES:
        found = search(
            model,
            x,
            target,
            ECCo(lambda_cost=0.0, lambda_energy=lam),
            data.constraints(),
            tau=0.95,
            max_iter=50,
            step_size=0.1,
        )
        cf, t = found.counterfactuals[found.converged], target[found.converged]
        distance = sum(torch.cdist(cf[t == c], x[y == c], p=1).mean(1).sum() for c in (0, 1))
        per_lambda.append(float(distance) / cf.shape[0])
        maturity.append(found.converged.float().mean().item())
    return sum(per_lambda) / len(per_lambda), min(maturity)


def test_ct_counterfactuals_are_more_plausible_on_circles(tmp_path):
    data = load("circles", cache_dir=tmp_path)
    models = {}
    for objective in ("full", "vanilla"):
        result = train_cell(data, final_config("circles", objective))
        assert result.log["val_accuracy"].iloc[-1] > 0.97  # CT keeps the classifier accurate
        models[objective] = result.model
    ip_ct, mature_ct = _mean_ip(models["full"], data)
    ip_bl, mature_bl = _mean_ip(models["vanilla"], data)
    assert min(mature_ct, mature_bl) > 0.3  # enough mature counterfactuals to compare
    # observed: 0.96 vs 2.49, a 61% reduction (paper: 59%)
    assert 1 - ip_ct / ip_bl >= 0.30, (ip_ct, ip_bl)
