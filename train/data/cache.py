"""Where generated datasets and binned arrays are cached (`<repo>/.cache`, or $SNN2FPGA_CACHE), and
how a generated dataset folder is made: once, atomically, replaced when its generator changes."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from train.data.events import EventFileError

CACHE_ENV = "SNN2FPGA_CACHE"
META_FILE = "meta.json"  # written last by a generator: what made the folder
REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    """The cache root: $SNN2FPGA_CACHE if set, else `<repo>/.cache` (git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".cache"


def is_current(root: Path, meta: dict) -> bool:
    """Whether `root` holds a complete generated dataset whose meta.json has every key of `meta`."""
    try:
        found = json.loads((Path(root) / META_FILE).read_text())
    except (OSError, ValueError):
        return False
    want = json.loads(json.dumps(meta))  # tuples → lists, as read back
    return {k: found.get(k) for k in want} == want


def ensure_generated(root: Path, name: str, meta: dict, generate: Callable[[Path], object]) -> Path:
    """`root`, generated first by `generate(folder)` if it is not a current copy (per `meta`).

    The folder is written under a temporary name and renamed into place, so it is never
    seen half-written; an older version is replaced; a folder that no generator wrote is
    refused rather than overwritten. If another process finishes first, its copy is kept.
    """
    root = Path(root)
    if is_current(root, meta):
        return root
    if root.exists() and not (root / META_FILE).exists():
        raise EventFileError(root, f"exists but is not a generated {name} folder (no {META_FILE}); remove it or choose another")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.with_name(f".{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        generate(tmp)
        stale = root.with_name(f".{root.name}.stale{os.getpid()}")
        if root.exists():  # an older generator version or config: replace it
            os.rename(root, stale)
        try:
            os.rename(tmp, root)
        except OSError:  # another process renamed its identical copy first: keep that one
            if not is_current(root, meta):
                raise
        shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root
