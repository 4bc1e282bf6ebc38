"""Shared fixtures of tests/: the real N-MNIST recordings, found through core.paths (one setting, as CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from snn2fpga.core.paths import NMNIST_ENV, REQUIRE_DATA_ENV, data_required, shared_nmnist_dir


@pytest.fixture(scope="session")
def real_nmnist() -> Path:
    """The real N-MNIST folder; skips where it is absent, fails instead when $SNN2FPGA_REQUIRE_DATA is set."""
    root = shared_nmnist_dir()
    if not (root / "Train").is_dir():
        reason = f"real N-MNIST recordings not found at {root} (set ${NMNIST_ENV})"
        if data_required():
            pytest.fail(f"{reason}; ${REQUIRE_DATA_ENV} is set, so this is a failure")
        pytest.skip(reason)
    return root
