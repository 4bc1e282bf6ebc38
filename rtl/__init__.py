"""rtl/: the Amaranth streaming LIF datapath (DESIGN §5, docs/rtl.md).

Four names: the layer core (`LayerCore`), the network top (`SNNTop`), the generator
(`generate`, also `snn2fpga rtl`) and the cycle model (`predict_cycles`).
"""

from snn2fpga.rtl.aer import aer_layout, aer_signature
from snn2fpga.rtl.cycle_model import CycleParams, predict_cycles, spike_counts
from snn2fpga.rtl.generate import GenerateError, generate
from snn2fpga.rtl.layer import LayerConfigError, LayerCore
from snn2fpga.rtl.top import SNNTop

__all__ = [
    "CycleParams",
    "GenerateError",
    "LayerConfigError",
    "LayerCore",
    "SNNTop",
    "aer_layout",
    "aer_signature",
    "generate",
    "predict_cycles",
    "spike_counts",
]
