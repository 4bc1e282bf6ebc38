"""The sources the generated hardware depends on, and the one cache key built from them.

sim/ and synth/ cache generated Verilog, Verilator builds and synthesis reports; their
keys come from `source_key`, so a change anywhere in core/ (the contract's widths and
ranges) or rtl/ is a cache miss, never stale output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import snn2fpga.core
from snn2fpga.core.files import tree_hash

RTL_DIR = Path(__file__).resolve().parent
CORE_DIR = Path(snn2fpga.core.__file__).resolve().parent
DESIGN_SOURCES: tuple[Path, ...] = (CORE_DIR, RTL_DIR)


def source_key(extra: str = "", sources: Sequence[Path] = DESIGN_SOURCES) -> str:
    """SHA-256 (hex) of every file under `sources` (default core/ and rtl/) and `extra` (the model, options)."""
    return tree_hash(sources, extra)
