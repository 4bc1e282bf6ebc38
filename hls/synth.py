"""Vendor HLS on the written project: C simulation, C synthesis, C/RTL co-simulation, IP export.

Needs Vitis HLS (`vitis-run` on PATH, backend "Vitis") or Vivado HLS (`vivado_hls`,
backend "Vivado"); neither exists on the machines this project is developed on, so this
path has not been run here (docs/hls.md). After co-simulation, the RTL's spikes in
tb_data/rtl_cosim_results.log are compared with the golden model's.
"""

from __future__ import annotations

import shutil

from snn2fpga.hls.build import HlsRunner
from snn2fpga.hls.errors import CSimMismatchError, HlsError
from snn2fpga.hls.testbench import compare_log

TOOLS = {"Vitis": "vitis-run", "Vivado": "vivado_hls"}


def synthesize(runner: HlsRunner, csim: bool = True, synth: bool = True, cosim: bool = True, export: bool = True) -> dict:
    """`hls_model.build(...)` on the project; returns hls4ml's report dict, raises on a co-simulation mismatch."""
    backend = runner.hls_model.config.backend.name
    tool = TOOLS.get(backend)
    if tool is None or shutil.which(tool) is None:
        raise HlsError(f"{backend} HLS not found: `{tool}` must be on PATH for C synthesis (see docs/hls.md)")
    report = runner.hls_model.build(csim=csim, synth=synth, cosim=cosim, export=export)
    for which, ran in (("csim", csim), ("cosim", cosim)):
        if ran:
            bad, steps = compare_log(runner.out_dir, which)
            if bad:
                raise CSimMismatchError(f"{runner.out_dir}: {which} testbench differs from the golden model in {bad} spikes over {steps} steps")
    return report or {}
