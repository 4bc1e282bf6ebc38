"""`LIF` with its membrane as internal state: the qonnx op of the graph that hls/ hands to hls4ml.

export/ writes the neuron as `snn2fpga.export.lif_op.LIF`: (current, m_prev) → (spikes, m_new), the
membrane threaded through graph inputs and outputs. On the FPGA the codes stay inside the
layer, so `hls.prepare` rewrites every such node into this op: (current, reset) → spikes,
the codes kept from call to call and cleared when `reset` is nonzero. The attributes are
export's (`snn2fpga.export.lif_op.ATTRIBUTES`), read and validated by `snn2fpga.export.lif_op.lif_params`.

qonnx needs the op for shape and datatype inference only; it is not executed in Python
(the state lives in the C simulation; the golden model is the Python reference).
"""

from __future__ import annotations

from onnx import NodeProto, helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp
from qonnx.custom_op.registry import add_op_to_domain

from snn2fpga.export.lif_op import ATTRIBUTES, lif_attributes, lif_params
from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, LIFParams

DOMAIN = "snn2fpga.hls.stateful_op"
OP_TYPE = "LIF"

__all__ = ["LIF"]


def make_stateful_lif_node(current: str, reset: str, spikes: str, p: LIFParams, name: str) -> NodeProto:
    """A stateful LIF node (current, reset) → spikes with the contract parameters as attributes."""
    return helper.make_node(OP_TYPE, [current, reset], [spikes], name=name, domain=DOMAIN, **lif_attributes(p))


class LIF(CustomOp):
    """One time step of a LIF layer whose membrane codes persist between calls (reset input clears them)."""

    def get_nodeattr_types(self) -> dict[str, tuple]:
        types = dict(ATTRIBUTES)
        types["reset"] = ("s", True, "", set(RESETS))
        types["membrane"] = ("s", True, "", set(MEMBRANE_QUANTS))
        return types

    def params(self) -> LIFParams:
        return lif_params(self.onnx_node)

    def make_shape_compatible_op(self, model) -> NodeProto:
        """Identity(current): the spikes have the current's shape."""
        return helper.make_node("Identity", [self.onnx_node.input[0]], [self.onnx_node.output[0]])

    def infer_node_datatype(self, model) -> None:
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["BINARY"])

    def execute_node(self, context, graph) -> None:
        raise NotImplementedError(
            f"stateful LIF node {self.onnx_node.name!r} runs in the hls4ml C simulation; "
            "execute export's graph (export.run_qonnx) or the golden model in Python"
        )

    def verify_node(self) -> list[str]:
        node = self.onnx_node
        ok = len(node.input) == 2 and len(node.output) == 1
        return [
            "domain is " + DOMAIN if node.domain == DOMAIN else f"domain {node.domain!r} should be {DOMAIN!r}",
            "2 inputs (current, reset), 1 output" if ok else f"has {len(node.input)} inputs, {len(node.output)} outputs",
        ]


add_op_to_domain(DOMAIN, LIF)
