"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

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
