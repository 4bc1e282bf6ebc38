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
    "Expectations": "snn2fpga.sim.reference",
    "SampleRecord": "snn2fpga.sim.reference",
    "Mismatch": "snn2fpga.sim.reference",
    "Report": "snn2fpga.sim.reference",
    "compare": "snn2fpga.sim.reference",
    "Design": "snn2fpga.sim.design",
    "prepare_design": "snn2fpga.sim.design",
    "run_cocotb": "snn2fpga.sim.runner",
    "RunResult": "snn2fpga.sim.runner",
    "Phase": "snn2fpga.sim.plan",
    "ClearCase": "snn2fpga.sim.plan",
    "Plan": "snn2fpga.sim.plan",
    "run_harness": "snn2fpga.sim.batch",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snn2fpga.sim' has no attribute {name!r}")
