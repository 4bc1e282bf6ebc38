"""core/: what every stage shares and what needs no torch, Brevitas, Amaranth or qonnx (DESIGN §1, §3).

  contract   the neuron contract in exact integers: `lif_step`, quantizer ranges, `signed_bits`
  maps       spike maps (C×H×W, channel-major): `MapShape`, conv currents, OR pooling
  arch       architecture strings (`12c5-p2-fc128`) → layer specs, shapes checked before training
  golden     the golden model: `GoldenNetwork` of `QuantLayer` (dense), `ConvLayer`, `PoolLayer`
  events     the event record (`EVENT_DTYPE`, `make_events`) and the readers' `EventFileError`
  binning    events → binary spike tensors (the contract's input encoding)
  files      atomic writers: text, JSON, bytes, npz, and a folder built beside its destination
  records    typed records read back from JSON: field checks whose errors name the file and field
  cli        the exit codes, one-line errors and `--debug` of every command
"""

from snn2fpga.core.arch import ArchError, ConvSpec, DenseSpec, PlannedLayer, PoolSpec, parse_arch, plan
from snn2fpga.core.binning import bin_events, n_inputs, pooled_size
from snn2fpga.core.contract import (
    MEMBRANE_QUANTS,
    RESETS,
    WEIGHT_QUANTS,
    ContractError,
    LIFParams,
    current_bits,
    default_delta,
    lif_step,
    membrane_code_bits,
    membrane_code_range,
    readout,
    signed_bits,
    weight_code_bits,
    weight_code_range,
)
from snn2fpga.core.events import EVENT_DTYPE, EventFileError, make_events
from snn2fpga.core.golden import (
    ConvLayer,
    GoldenNetwork,
    GoldenResult,
    Layer,
    PoolLayer,
    QuantLayer,
    random_arch_network,
    random_codes,
    random_network,
)
from snn2fpga.core.maps import MapShape, conv_out_shape, pool_out_shape

__all__ = [
    "ArchError",
    "ConvLayer",
    "ConvSpec",
    "DenseSpec",
    "Layer",
    "MapShape",
    "PlannedLayer",
    "PoolLayer",
    "PoolSpec",
    "conv_out_shape",
    "parse_arch",
    "plan",
    "pool_out_shape",
    "random_arch_network",
    "random_codes",
    "EVENT_DTYPE",
    "MEMBRANE_QUANTS",
    "RESETS",
    "WEIGHT_QUANTS",
    "ContractError",
    "EventFileError",
    "GoldenNetwork",
    "GoldenResult",
    "LIFParams",
    "QuantLayer",
    "bin_events",
    "current_bits",
    "default_delta",
    "lif_step",
    "make_events",
    "membrane_code_bits",
    "membrane_code_range",
    "n_inputs",
    "pooled_size",
    "random_network",
    "readout",
    "signed_bits",
    "weight_code_bits",
    "weight_code_range",
]
