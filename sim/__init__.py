"""sim/: the generated RTL under Verilator, checked against the golden model (DESIGN §6, docs/sim.md).

Public API (imports are lazy: `import sim` pulls in neither cocotb nor amaranth):
  Expectations, SampleRecord, Mismatch, compare       golden + cycle-model expectations and the comparison
  prepare_design(network, steps, lanes) -> Design      generated RTL, cached under build/sim/
  run_cocotb(design, expectations, name, phases, clears) -> RunResult   the cocotb testbench
  Phase, ClearCase                                     what a run does
  run_harness(design, expectations) -> records         the C++ batch harness (`make sim-batch`)
The cocotb parts (driver, monitor, staller, scoreboard, Testbench) are in `sim.bench`,
the cocotb tests in `sim.snn_cocotb`; both run inside the simulator only.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "Expectations": "sim.reference",
    "SampleRecord": "sim.reference",
    "Mismatch": "sim.reference",
    "Report": "sim.reference",
    "compare": "sim.reference",
    "Design": "sim.design",
    "prepare_design": "sim.design",
    "run_cocotb": "sim.runner",
    "RunResult": "sim.runner",
    "Phase": "sim.plan",
    "ClearCase": "sim.plan",
    "Plan": "sim.plan",
    "run_harness": "sim.batch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
