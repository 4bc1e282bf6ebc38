"""rtl/: the Amaranth streaming LIF datapath (DESIGN §5, docs/rtl.md).

The layer cores (`LayerCore` dense, `ConvCore` conv), the pool unit (`PoolUnit`), the network
top (`SNNTop`, which builds each layer's hardware with `make_core`), the generator (`generate`,
also `snn2fpga rtl`) and the `Manifest` it writes, the cycle model (`predict_cycles`,
`schedule`, `acc_work`) and the stall settings of the testbenches (`Stalls`).
"""

from snn2fpga.rtl.aer import aer_layout, aer_signature
from snn2fpga.rtl.conv import ConvCore
from snn2fpga.rtl.cycle_model import (
    ConvGeometry,
    CycleParams,
    StepSchedule,
    acc_work,
    predict_cycles,
    schedule,
    spike_counts,
    synaptic_ops,
)
from snn2fpga.rtl.generate import GenerateError, generate
from snn2fpga.rtl.layer import LayerConfigError, LayerCore
from snn2fpga.rtl.manifest import Manifest, ManifestError
from snn2fpga.rtl.pool import PoolUnit
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.rtl.top import SNNTop, make_core

__all__ = [
    "ConvCore",
    "ConvGeometry",
    "CycleParams",
    "GenerateError",
    "LayerConfigError",
    "LayerCore",
    "Manifest",
    "ManifestError",
    "PoolUnit",
    "SNNTop",
    "Stalls",
    "StepSchedule",
    "acc_work",
    "synaptic_ops",
    "aer_layout",
    "aer_signature",
    "generate",
    "make_core",
    "predict_cycles",
    "schedule",
    "spike_counts",
]
