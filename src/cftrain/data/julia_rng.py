"""Just enough of Julia 1.11's ``Xoshiro`` to draw what MLJBase's ``make_blobs`` draws first.

Why: the blob centres of LS and OL decide the results (method §4.1), and the reference drew
them as the first four ``rand(Xoshiro(42), Float64)`` values. Facts used (read from Julia's
``stdlib/Random`` sources; the doctests of Julia 1.11 print the outputs the tests pin):

* Seeding an integer ``n ≥ 0``: split ``n`` into 32-bit words, least significant first
  (``make_seed``); hash their little-endian bytes with SHA2-256; the digest read as four
  little-endian ``UInt64`` is the state ``(s0, s1, s2, s3)``.
* Output: Xoshiro256++ — ``rotl(s0 + s3, 23) + s0``, then the usual state update with
  ``s1 << 17`` and ``rotl(s3, 45)``.
* ``rand(Float64)`` on ``[0, 1)``: ``(x >>> 11) · 2⁻⁵³``. An array ``rand(rng, 2, 2)`` of
  32 bytes is below the 64-byte SIMD threshold, so it is filled by the same scalar stream.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

_MASK = (1 << 64) - 1


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & _MASK


class Xoshiro:
    """Julia's ``Xoshiro(seed)`` for a non-negative integer seed (Julia ≥ 1.7 seeding)."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed={seed}; only non-negative seeds are emulated")
        words = []
        while True:
            words.append(seed & 0xFFFFFFFF)
            seed >>= 32
            if seed == 0:
                break
        digest = hashlib.sha256(struct.pack(f"<{len(words)}I", *words)).digest()
        self.state = list(struct.unpack("<4Q", digest))

    def next_uint64(self) -> int:
        """One Xoshiro256++ output; advances the state."""
        s0, s1, s2, s3 = self.state
        result = (_rotl((s0 + s3) & _MASK, 23) + s0) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self.state = [s0, s1, s2, _rotl(s3, 45)]
        return result

    def rand(self, n: int) -> np.ndarray:
        """``n`` consecutive ``rand(rng, Float64)`` values in ``[0, 1)``."""
        return np.array([(self.next_uint64() >> 11) * 2.0**-53 for _ in range(n)])


def mljbase_blob_centres(
    seed: int = 42, n_centres: int = 2, n_features: int = 2, box: tuple[float, float] = (-10, 10)
) -> np.ndarray:
    """Centres ``(n_centres, n_features)`` that MLJBase 0.21's ``make_blobs`` draws first from
    ``Xoshiro(seed)``: ``(b − a)·rand(rng, c, p) + a``, the matrix filled column-major."""
    a, b = box
    u = Xoshiro(seed).rand(n_centres * n_features)
    return (b - a) * u.reshape(n_features, n_centres).T + a
