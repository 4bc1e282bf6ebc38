"""Progress bars only where a person watches: on a terminal a tqdm bar, in a log nothing (the
callers print one line per epoch or stage instead), so logs are not filled with carriage returns."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm


def bar(items: Iterable, progress: bool = True, **kwargs) -> tqdm:
    """tqdm over `items`, disabled unless `progress` and stderr is a terminal."""
    return tqdm(items, disable=not (progress and sys.stderr.isatty()), **kwargs)
