"""Where runs, builds and caches live: one home for each folder name and its environment override.

Relative to the working directory (a checkout's root when run through make), so an
installed package writes where its user works, never into site-packages.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SNN2FPGA_CACHE"  # cache root override (generated datasets, binned arrays)
NMNIST_ENV = "SNN2FPGA_NMNIST_DIR"  # the real N-MNIST recordings the tests and sim-batch use
REQUIRE_DATA_ENV = "SNN2FPGA_REQUIRE_DATA"  # set (CI sets it): a test that cannot find them fails instead of skipping
RUNS = Path("runs")
BUILD = Path("build")


def cache_root() -> Path:
    """The cache root: $SNN2FPGA_CACHE if set, else `.cache` in the working directory (git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser().resolve() if env else Path(".cache").resolve()


def build_dir(name: str) -> Path:
    """`build/<name>/`: what the hardware stages derive from the model `name`."""
    return BUILD / name


def data_required() -> bool:
    """Whether missing real recordings are a failure (CI) rather than a reason to skip."""
    return os.environ.get(REQUIRE_DATA_ENV, "") not in ("", "0")


def shared_nmnist_dir() -> Path:
    """The real N-MNIST folder: $SNN2FPGA_NMNIST_DIR, else `../shared/data/nmnist-train1k` beside the checkout."""
    env = os.environ.get(NMNIST_ENV)
    return Path(env).expanduser() if env else Path("..", "shared", "data", "nmnist-train1k").resolve()
