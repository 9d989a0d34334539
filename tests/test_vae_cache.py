"""The on-disk cache of fitted VAEs: a cached fit is the fit it replaces, bit for bit, so a
REVISE cell trained with the cache equals one trained without it."""

from __future__ import annotations

import pytest
import torch

from cftrain import vae as vae_module
from cftrain.models import build
from cftrain.training import TrainingConfig, counterfactual_training
from cftrain.vae import CACHE_ENV, fit_vae


def _points(n: int = 120, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def _equal_fits(a: tuple, b: tuple) -> bool:
    (va, ha), (vb, hb) = a, b
    sa, sb = va.state_dict(), vb.state_dict()
    return ha == hb and sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_cached_vae_is_the_fit_it_replaces_down_to_the_global_generator(tmp_path, monkeypatch):
    x = _points()
    state = torch.random.get_rng_state()
    fresh = fit_vae(x, epochs=5)
    after_fit = torch.random.get_rng_state()
    stored = fit_vae(x, epochs=5, cache_dir=tmp_path)  # a miss: fits and stores
    assert len(list(tmp_path.glob("vae-*.pt"))) == 1
    assert _equal_fits(fresh, stored)

    def no_fit(*args, **kwargs):
        raise AssertionError("a cached fit was refitted")

    monkeypatch.setattr(vae_module, "_fit", no_fit)
    torch.random.set_rng_state(state)
    loaded = fit_vae(x, epochs=5, cache_dir=tmp_path)
    # building the module draws PyTorch's default initial weights from the global generator;
    # a load builds it once as a fit does, so later global draws are the same either way
    assert torch.equal(torch.random.get_rng_state(), after_fit)
    assert _equal_fits(fresh, loaded)
    assert not loaded[0].training


def test_the_cache_keys_on_data_and_arguments(tmp_path):
    x = _points()
    fit_vae(x, epochs=3, cache_dir=tmp_path)
    fit_vae(x, epochs=3, cache_dir=tmp_path)
    fit_vae(x, epochs=3, seed=1, cache_dir=tmp_path)
    fit_vae(x + 1e-6, epochs=3, cache_dir=tmp_path)
    fit_vae(x.double(), epochs=3, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("vae-*.pt"))) == 4


def test_an_unreadable_cache_entry_is_refitted_with_a_warning_naming_it(tmp_path):
    x = _points()
    fit_vae(x, epochs=3, cache_dir=tmp_path)
    (entry,) = tmp_path.glob("vae-*.pt")
    entry.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match=entry.name):
        refitted = fit_vae(x, epochs=3, cache_dir=tmp_path)
    assert _equal_fits(refitted, fit_vae(x, epochs=3))
    assert _equal_fits(refitted, fit_vae(x, epochs=3, cache_dir=tmp_path))  # replaced


def test_revise_training_through_the_environment_cache_equals_training_without(
    tmp_path, monkeypatch
):
    g = torch.Generator().manual_seed(3)
    x = torch.cat([torch.randn(60, 2, generator=g) - 2, torch.randn(60, 2, generator=g) + 2])
    y = torch.cat([torch.zeros(60), torch.ones(60)]).long()
    cfg = TrainingConfig(nepochs=2, batch_size=40, nce=30, lr=0.02, generator="revise")

    def train() -> dict[str, torch.Tensor]:
        model = build("mlp", 2, 2)
        counterfactual_training(model, (x, y), cfg, quiet=True)
        return model.state_dict()

    plain = train()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    first, second = train(), train()  # a miss, then a hit
    assert len(list(tmp_path.glob("vae-*.pt"))) == 1
    for state in (first, second):
        assert all(torch.equal(plain[k], state[k]) for k in plain)
