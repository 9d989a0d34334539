"""The variational autoencoder behind REVISE (method §2.4), and its fitting function.

Encoder Dense(D,H,sigmoid) → heads μ, log σ; decoder Dense(L,H,tanh) → Dense(H,D)
(linear output). Loss per batch: Σ squared error / n + KL(q‖N(0,I)) / n
+ 0.01·Σ‖W_decoder‖², Adam 1e-3, batch 50, shuffled, 100 epochs.

A fit is a function of its data and arguments alone (its own seeded generators), so it can be
cached on disk: every REVISE cell of a grid would otherwise refit the same VAE, which costs
REVISE cells on the synthetic data about 40 % of their time.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from cftrain.atomic import atomic_path
from cftrain.models import glorot_init_

#: environment variable naming the cache directory of fitted VAEs (unset: no cache)
CACHE_ENV = "CFTRAIN_VAE_CACHE"

DECODER_WEIGHT_DECAY = 0.01


class VAE(nn.Module):
    """Defaults as the reference: latent 2 / hidden 16 for 2-D data, else 4 / 32."""

    def __init__(
        self,
        n_features: int,
        latent_dim: int | None = None,
        hidden: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        small = n_features <= 2
        latent_dim = latent_dim or (2 if small else 4)
        hidden = hidden or (16 if small else 32)
        self.latent_dim = latent_dim
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.Sigmoid())
        self.mu = nn.Linear(hidden, latent_dim)
        self.log_sigma = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, n_features)
        )
        glorot_init_(self, generator)

    def stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x: (N, D)`` → (μ, log σ), each ``(N, L)``."""
        h = self.body(x)
        return self.mu(h), self.log_sigma(h)

    def encode(self, x: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """Stochastic encoding z = μ + σ⊙ε, as the reference (not the mean)."""
        mu, log_sigma = self.stats(x)
        eps = torch.randn(mu.shape, generator=rng, dtype=mu.dtype, device=mu.device)
        return mu + log_sigma.exp() * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor, rng: torch.Generator | None = None) -> torch.Tensor:
        """The reference's per-batch objective (scalar)."""
        n = x.shape[0]
        mu, log_sigma = self.stats(x)
        eps = torch.randn(mu.shape, generator=rng, dtype=mu.dtype, device=mu.device)
        x_hat = self.decode(mu + log_sigma.exp() * eps)
        reconstruction = ((x_hat - x) ** 2).sum() / n
        kl = 0.5 * ((2 * log_sigma).exp() + mu**2 - 1 - 2 * log_sigma).sum() / n
        weights = sum((m.weight**2).sum() for m in self.decoder if isinstance(m, nn.Linear))
        return reconstruction + kl + DECODER_WEIGHT_DECAY * weights


def fit_vae(
    x: torch.Tensor,
    *,
    latent_dim: int | None = None,
    hidden: int | None = None,
    epochs: int = 100,
    batch_size: int = 50,
    lr: float = 1e-3,
    seed: int = 0,
    quiet: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[VAE, list[float]]:
    """Fit a VAE on training features ``x: (N, D)``; returns it and the mean loss per epoch.

    cache_dir (default ``$CFTRAIN_VAE_CACHE``): load the fit of the same data and arguments
    from there instead of refitting, or store this fit there; an unreadable entry is refitted
    and replaced.
    """
    arguments = dict(latent_dim=latent_dim, hidden=hidden, epochs=epochs, batch_size=batch_size)
    arguments |= dict(lr=lr, seed=seed)
    cache_dir = cache_dir if cache_dir is not None else os.environ.get(CACHE_ENV) or None
    entry = None if cache_dir is None else Path(cache_dir) / f"vae-{_digest(x, arguments)}.pt"
    if entry is not None and entry.is_file():
        cached = _load(entry, x, latent_dim, hidden)
        if cached is not None:
            return cached
    vae, history = _fit(x, latent_dim, hidden, epochs, batch_size, lr, seed, quiet)
    if entry is not None:
        with atomic_path(entry) as tmp:
            torch.save({"state": vae.state_dict(), "history": history}, tmp)
    return vae, history


def _digest(x: torch.Tensor, arguments: dict) -> str:
    """What decides a fit: the data's values, shape, dtype and device type, the arguments and
    the torch version (its kernels may round differently)."""
    h = hashlib.sha256()
    h.update(x.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    meta = [list(x.shape), str(x.dtype), x.device.type, arguments, torch.__version__]
    h.update(json.dumps(meta, sort_keys=True).encode())
    return h.hexdigest()[:32]


def _load(
    entry: Path, x: torch.Tensor, latent_dim: int | None, hidden: int | None
) -> tuple[VAE, list[float]] | None:
    try:
        saved = torch.load(entry, map_location=x.device, weights_only=True)
        vae = _build(x, latent_dim, hidden, seed=0)  # the global generator advances as in a fit
        vae.load_state_dict(saved["state"])
        history = [float(v) for v in saved["history"]]
    except (OSError, RuntimeError, EOFError, KeyError, TypeError, pickle.UnpicklingError) as e:
        warnings.warn(f"{entry}: unreadable cached VAE ({e}); fitting it again", stacklevel=3)
        return None
    return vae.eval(), history


def _build(x: torch.Tensor, latent_dim: int | None, hidden: int | None, seed: int) -> VAE:
    """A VAE for ``x``'s width, device and dtype, its initial weights drawn with ``seed``."""
    init = torch.Generator().manual_seed(seed)
    return VAE(x.shape[1], latent_dim, hidden, generator=init).to(device=x.device, dtype=x.dtype)


def _fit(
    x: torch.Tensor,
    latent_dim: int | None,
    hidden: int | None,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    quiet: bool,
) -> tuple[VAE, list[float]]:
    rng = torch.Generator(device=x.device).manual_seed(seed)
    vae = _build(x, latent_dim, hidden, seed)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    history: list[float] = []
    for _ in tqdm(range(epochs), desc="VAE", disable=quiet):
        order = torch.randperm(x.shape[0], generator=rng, device=x.device)
        total = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, x.shape[0], batch_size):
            loss = vae.loss(x[order[start : start + batch_size]], rng)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach()
        history.append(float(total) / -(-x.shape[0] // batch_size))
    return vae.eval(), history
