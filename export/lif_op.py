"""The neuron as a qonnx custom op: `LIF` in domain `snn2fpga.export.lif_op`, one time step of the contract.

The ONNX domain is this module's import path, so qonnx's registry (which imports the
module named by a node's domain) finds the op in any process where the project is
installed, without anyone calling a registration function first; importing this module
also registers it explicitly with `add_op_to_domain`.

Inputs: current [B, N] (integer-valued float32, units of the weight scale) and the stored
membrane codes m_{t-1} [B, N]. Outputs: spikes [B, N] (0/1) and the new codes m_t [B, N].
The arithmetic is `train.contract.lif_step`; nothing here re-implements it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp
from qonnx.custom_op.registry import add_op_to_domain
from qonnx.util.basic import get_by_name

from snn2fpga.export.errors import LIFAttributeError
from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, ContractError, LIFParams, lif_step, membrane_code_bits

DOMAIN = "snn2fpga.export.lif_op"
OP_TYPE = "LIF"
OPSET_VERSION = 1
NO_LEAK = -1  # leak_shift value meaning "integrate-and-fire" (no leak)

__all__ = ["LIF"]

# name -> (onnx attribute field, required, default); the contract's parameters (docs/contract.md)
ATTRIBUTES: dict[str, tuple[str, bool, Any]] = {
    "threshold": ("i", True, 0),  # θ ≥ 1, integer units of the weight scale
    "leak_shift": ("i", False, NO_LEAK),  # k ≥ 1 (β = 1 − 2^−k), or −1 / absent for IF
    "reset": ("s", True, ""),  # "subtract" | "zero"
    "membrane": ("s", True, ""),  # "ternary" | "int2".."int16" | "full"
    "delta": ("i", True, 0),  # Δ ≥ 1 (1 for "full")
    "acc_bits": ("i", True, 0),  # A, the saturation width of the membrane accumulator
}


def membrane_datatype(membrane: str, acc_bits: int) -> DataType:
    """qonnx DataType of a stored membrane code (TERNARY, INTn, or INT<A> for 'full')."""
    if membrane == "ternary":
        return DataType["TERNARY"]
    return DataType[f"INT{membrane_code_bits(membrane, acc_bits)}"]


def lif_attributes(p: LIFParams) -> dict[str, Any]:
    """ONNX attributes of a LIF node implementing `p`."""
    return {
        "threshold": int(p.threshold),
        "leak_shift": NO_LEAK if p.leak_shift is None else int(p.leak_shift),
        "reset": p.reset,
        "membrane": p.membrane,
        "delta": int(p.delta),
        "acc_bits": int(p.acc_bits),
    }


def make_lif_node(inputs: list[str], outputs: list[str], p: LIFParams, name: str) -> NodeProto:
    """A LIF node (current, m_prev) → (spikes, m_new) with the contract parameters as attributes."""
    return helper.make_node(OP_TYPE, inputs, outputs, name=name, domain=DOMAIN, **lif_attributes(p))


def lif_params(node: NodeProto) -> LIFParams:
    """Read and validate the contract parameters of a LIF node; LIFAttributeError names what is wrong."""
    where = f"LIF node {node.name!r}"
    values: dict[str, Any] = {}
    for name, (field, required, default) in ATTRIBUTES.items():
        attr = get_by_name(node.attribute, name)
        if attr is None:
            if required:
                raise LIFAttributeError(f"{where}: attribute {name!r} is missing")
            values[name] = default
            continue
        expected = {"i": helper.AttributeProto.INT, "s": helper.AttributeProto.STRING}[field]
        if attr.type != expected:
            raise LIFAttributeError(f"{where}: attribute {name!r} must be {'an int' if field == 'i' else 'a string'}")
        values[name] = attr.i if field == "i" else attr.s.decode("utf-8")
    unknown = sorted({a.name for a in node.attribute} - set(ATTRIBUTES))
    if unknown:
        raise LIFAttributeError(f"{where}: unknown attribute(s) {unknown}; a LIF node has {sorted(ATTRIBUTES)}")
    if values["membrane"] not in MEMBRANE_QUANTS:
        raise LIFAttributeError(
            f"{where}: membrane={values['membrane']!r} unknown; choose one of {', '.join(MEMBRANE_QUANTS)}"
        )
    if values["reset"] not in RESETS:
        raise LIFAttributeError(f"{where}: reset={values['reset']!r} unknown; choose one of {', '.join(RESETS)}")
    k = values.pop("leak_shift")
    if k != NO_LEAK and k < 1:
        raise LIFAttributeError(f"{where}: leak_shift={k} must be ≥ 1, or {NO_LEAK} for no leak")
    try:
        return LIFParams(leak_shift=None if k == NO_LEAK else k, **values)
    except ContractError as e:
        raise LIFAttributeError(f"{where}: {e}") from None


def _as_int(x: np.ndarray, what: str, node: NodeProto) -> np.ndarray:
    """Integer array from a float carrier; refuses non-integer values (a broken scale fold)."""
    r = np.rint(x)
    if not np.array_equal(r, x):
        raise LIFAttributeError(f"LIF node {node.name!r}: input {what} holds non-integer values")
    return r.astype(np.int64)


class LIF(CustomOp):
    """One time step of a quantized LIF layer (DESIGN §3), executed by `train.contract.lif_step`."""

    def get_nodeattr_types(self) -> dict[str, tuple]:
        """The contract parameters; membrane and reset restricted to the contract's names."""
        types = {name: spec for name, spec in ATTRIBUTES.items()}
        types["reset"] = ("s", True, "", set(RESETS))
        types["membrane"] = ("s", True, "", set(MEMBRANE_QUANTS))
        return types

    def params(self) -> LIFParams:
        """The validated contract parameters of this node."""
        return lif_params(self.onnx_node)

    def make_shape_compatible_op(self, model) -> NodeProto:
        """Dropout(current) → (spikes, m_new): the one standard op with two outputs of the input's shape.

        Its second output is typed bool by ONNX; both LIF outputs are graph outputs in
        the exported layout, whose declared float type non-strict inference keeps.
        """
        node = self.onnx_node
        return helper.make_node("Dropout", [node.input[0]], list(node.output[:2]))

    def infer_node_datatype(self, model) -> None:
        """Spikes are BINARY; codes TERNARY / INTn / INT<A> as the membrane quantizer says."""
        p = self.params()
        model.set_tensor_datatype(self.onnx_node.output[0], DataType["BINARY"])
        model.set_tensor_datatype(self.onnx_node.output[1], membrane_datatype(p.membrane, p.acc_bits))

    def execute_node(self, context: dict[str, np.ndarray], graph) -> None:
        """Run `lif_step` on the context's current and codes; write float32 spikes and codes back."""
        node = self.onnx_node
        p = self.params()
        current = _as_int(np.asarray(context[node.input[0]]), "current", node)
        m_prev = _as_int(np.asarray(context[node.input[1]]), "membrane codes", node)
        if current.shape != m_prev.shape:
            raise LIFAttributeError(f"LIF node {node.name!r}: current {current.shape} and codes {m_prev.shape} differ in shape")
        spikes, m_new = lif_step(m_prev, current, p)
        context[node.output[0]] = spikes.astype(np.float32)
        context[node.output[1]] = m_new.astype(np.float32)

    def verify_node(self) -> list[str]:
        """qonnx-style check: messages for the domain, the I/O count and every attribute."""
        node = self.onnx_node
        info = []
        info.append("domain is " + DOMAIN if node.domain == DOMAIN else f"domain {node.domain!r} should be {DOMAIN!r}")
        ok_io = len(node.input) == 2 and len(node.output) == 2
        info.append("2 inputs, 2 outputs" if ok_io else f"needs 2 inputs and 2 outputs, has {len(node.input)} and {len(node.output)}")
        try:
            info.append(f"attributes valid: {self.params()}")
        except LIFAttributeError as e:
            info.append(str(e))
        return info


add_op_to_domain(DOMAIN, LIF)
