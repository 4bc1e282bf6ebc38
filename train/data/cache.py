"""Where generated datasets and binned arrays are cached: `<repo>/.cache`, or $SNN2FPGA_CACHE."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SNN2FPGA_CACHE"
REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    """The cache root: $SNN2FPGA_CACHE if set, else `<repo>/.cache` (git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache"
