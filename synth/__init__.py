"""synth/: open-source synthesis, place-and-route reports and the hardware benchmark (docs/synth.md).

After rtl/ (the generated design) and sim/ (which holds it to the cycle model):

  synthesize(network, steps, lanes, target, out_dir, …) -> report     Yosys (+ nextpnr), report.json/.md
  load_model(path) -> ModelInfo                                     run folder / .qonnx / network .json
  write_vivado(network, steps, lanes, out_dir, part=…) -> Path        Vivado non-project Tcl (not run here)
  bench: latency / throughput / SOP math (synth.bench), `snn2fpga bench`

Commands: `snn2fpga synth MODEL --target ecp5|ice40|xc7 [--lanes P] [--freq MHz]`
(`make synth`), `snn2fpga bench MODEL` (`make bench`).
Errors: SynthError (ValueError) > ModelError, TargetError, ToolError, DoesNotFitError,
MemoryMappingError.
"""

from snn2fpga.synth.errors import DoesNotFitError, MemoryMappingError, ModelError, SynthError, TargetError, ToolError
from snn2fpga.synth.flow import synthesize
from snn2fpga.synth.model import ModelInfo, load_model
from snn2fpga.synth.targets import TARGETS, get_target
from snn2fpga.synth.vivado import write_vivado

__all__ = [
    "DoesNotFitError",
    "MemoryMappingError",
    "ModelError",
    "ModelInfo",
    "SynthError",
    "TARGETS",
    "TargetError",
    "ToolError",
    "get_target",
    "load_model",
    "synthesize",
    "write_vivado",
]
