"""rtl/: the Amaranth streaming LIF datapath (DESIGN §5, docs/rtl.md).

The layer core (`LayerCore`), the network top (`SNNTop`), the generator (`generate`,
also `snn2fpga rtl`) and the `Manifest` it writes, the cycle model (`predict_cycles`,
`schedule`) and the stall settings of the testbenches (`Stalls`).
"""

from snn2fpga.rtl.aer import aer_layout, aer_signature
from snn2fpga.rtl.cycle_model import CycleParams, StepSchedule, predict_cycles, schedule, spike_counts
from snn2fpga.rtl.generate import GenerateError, generate
from snn2fpga.rtl.layer import LayerConfigError, LayerCore
from snn2fpga.rtl.manifest import Manifest, ManifestError
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.rtl.top import SNNTop

__all__ = [
    "CycleParams",
    "GenerateError",
    "LayerConfigError",
    "LayerCore",
    "Manifest",
    "ManifestError",
    "SNNTop",
    "Stalls",
    "StepSchedule",
    "aer_layout",
    "aer_signature",
    "generate",
    "predict_cycles",
    "schedule",
    "spike_counts",
]
