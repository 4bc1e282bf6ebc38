"""How a generated dataset folder is made: once, atomically, replaced when its generator changes.

The cache root itself is `snn2fpga.core.paths.cache_root` (`.cache`, or $SNN2FPGA_CACHE).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from snn2fpga.core.events import EventFileError
from snn2fpga.core.files import building_dir

META_FILE = "meta.json"  # written last by a generator: what made the folder


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

    The folder is built beside `root` and swapped in whole (core.files.building_dir), so it
    is never seen half-written; an older version is replaced; a folder that no generator
    wrote is refused rather than overwritten. Two processes racing write identical copies.
    """
    root = Path(root)
    if is_current(root, meta):
        return root
    if root.exists() and not (root / META_FILE).exists():
        raise EventFileError(root, f"exists but is not a generated {name} folder (no {META_FILE}); remove it or choose another")
    print(f"{name}: generating the dataset into {root} (once; later runs reuse it)", file=sys.stderr)
    with building_dir(root) as work:
        generate(work)
    return root
