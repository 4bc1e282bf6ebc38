"""The LIF as an hls4ml layer: the internal representation and the ONNX frontend handler.

The handler reads a stateful LIF node (`snn2fpga.hls.stateful_op`; inputs current and reset) into a
layer dict; `LIF` turns it into hls4ml's graph node with one output, the spikes (`ap_uint<1>`).
Its integer types follow from the contract parameters:

- `mem_t`: one stored membrane code (ternary: 2 bits, intN: N, full: A);
- `acc_t`: the saturated membrane u, A bits;
- `wide_t`: v + I and 2u + Δ before saturation/quantization, sized by `hls.passes` once the
  current's width is known.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.attributes import Attribute, ChoiceAttribute, TypeAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import IntegerPrecisionType, NamedType

from snn2fpga.export.lif_op import lif_params
from snn2fpga.hls.errors import UnsupportedGraphError
from snn2fpga.core.contract import RESETS, membrane_code_bits, membrane_code_range


def spike_precision() -> IntegerPrecisionType:
    """`ap_uint<1>`, a fresh object each time (hls4ml passes may mutate a precision in place)."""
    return IntegerPrecisionType(width=1, signed=False)


class LIF(Layer):
    """One time step of a LIF layer; membrane codes persist in the generated C++ (`nnet::lif`)."""

    _expected_attributes = [
        Attribute("n_in"),
        Attribute("threshold"),
        Attribute("leak_shift"),  # 0: no leak
        ChoiceAttribute("reset_mode", list(RESETS), configurable=False),
        Attribute("membrane", value_type=str),
        Attribute("delta"),
        Attribute("acc_bits"),
        TypeAttribute("mem"),
        TypeAttribute("acc"),
        TypeAttribute("wide"),
    ]

    def initialize(self):
        shape = list(self.get_input_variable(self.inputs[0]).shape)
        a = self.get_attr("acc_bits")
        mem_bits = membrane_code_bits(self.get_attr("membrane"), a)
        self.set_attr("mem_t", NamedType(f"lif{self.index}_mem_t", IntegerPrecisionType(mem_bits, signed=True)))
        self.set_attr("acc_t", NamedType(f"lif{self.index}_acc_t", IntegerPrecisionType(a, signed=True)))
        # placeholder until hls.passes knows the current's width
        self.set_attr("wide_t", NamedType(f"lif{self.index}_wide_t", IntegerPrecisionType(a + 3, signed=True)))
        self.add_output_variable(shape, precision=spike_precision())

    def code_range(self) -> tuple[int, int]:
        return membrane_code_range(self.get_attr("membrane"), self.get_attr("acc_bits"))


def parse_lif_layer(node, input_names, input_shapes, graph):
    """ONNX handler for op type `LIF` (stateful form: inputs current, reset; output spikes)."""
    if len(node.input) != 2 or len(node.output) != 1:
        raise UnsupportedGraphError(
            f"LIF node {node.name!r}: hls4ml takes the stateful form (current, reset) → spikes; "
            "prepare the model with hls.prepare first"
        )
    p = lif_params(node)
    return {
        "class_name": "LIF",
        "name": node.name,
        "inputs": list(input_names),
        "outputs": [node.output[0]],
        "n_in": int(np.prod(input_shapes[0][1:])),
        "threshold": int(p.threshold),
        "leak_shift": 0 if p.leak_shift is None else int(p.leak_shift),
        "reset_mode": p.reset,
        "membrane": p.membrane,
        "delta": int(p.delta),
        "acc_bits": int(p.acc_bits),
    }
