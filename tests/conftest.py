"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# The raw-data mirror sits beside the clone (../shared/data), locally and in CI.
DATA_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_mirror() -> Path:
    """The raw-data mirror; tests of real datasets fail (never skip) without it."""
    if not (DATA_MIRROR / "SHA256SUMS").is_file():
        pytest.fail(
            f"raw-data mirror not found at {DATA_MIRROR} (expected ../shared/data beside the "
            "repository, with SHA256SUMS); the real-dataset tests need it"
        )
    return DATA_MIRROR


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread per test process: `pytest -n 2` on 2 cores with 2 threads each made
    small-tensor training runs about 20× slower through oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
