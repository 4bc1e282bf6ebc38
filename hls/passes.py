"""hls4ml optimizer passes for the LIF layers: exact integer types on the Dense and Conv2D layers that feed them.

hls4ml gives a Dense layer its configured default types (e.g. `ap_fixed<16,6>`) for the
accumulator and the result; the contract needs the current I = W·s + b exact. These
passes, run in the backend's `optimize` flow (before types become C++ and templates are
filled), make every value on the way to the LIF an exact integer:

- `FuseIntegerBiasIntoDense`: the `ApplyAlpha` hls4ml makes of `Add(bias)` (scale 1,
  integer bias) becomes the Dense layer's own bias;
- `ExactIntegerTypes`: weights `ap_int<b>` (the codes; binary ±1 in 2 bits), bias
  `ap_int`, accumulator and result `ap_int<current_bits>` (`train.contract.current_bits`,
  the worst case over every binary input, the width the RTL uses; for a Conv2D over one
  kernel window, which padding only shortens), the spikes on the way in `ap_uint<1>`
  (through Transpose/Reshape wiring and MaxPooling2D, whose max of 0/1 spikes is their
  OR), and the LIF's `wide_t` from the current's width and A.
"""

from __future__ import annotations

import numpy as np
from hls4ml.model.layers import ApplyAlpha, Conv2D, Dense, Input, Pooling2D, Reshape, Transpose
from hls4ml.model.optimizer import OptimizerPass
from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, NamedType, XnorPrecisionType

from snn2fpga.hls.errors import UnsupportedGraphError
from snn2fpga.hls.layer import LIF, spike_precision
from snn2fpga.core.contract import current_bits, signed_bits


def _signed_bits(values: np.ndarray) -> int:
    """Signed bits of an integer array's range (core.contract.signed_bits)."""
    return signed_bits(int(values.min(initial=0)), int(values.max(initial=0)))


_WIRING = (Reshape, Transpose)  # layers that only move values: a flatten, a channels-first/last permutation
_WEIGHTED = (Dense, Conv2D)


def _behind_wiring(node, name: str) -> tuple[object, list]:
    """The layer that makes input `name` of `node`, skipping Reshape/Transpose; and the skipped layers."""
    src, skipped = node.get_input_node(name), []
    while isinstance(src, _WIRING):
        skipped.append(src)
        src = src.get_input_node(src.inputs[0])
    return src, skipped


def _as_integers(data: np.ndarray, what: str) -> np.ndarray:
    data = np.asarray(data, dtype=np.float64)
    codes = np.rint(data)
    if not np.array_equal(codes, data):
        raise UnsupportedGraphError(f"{what} holds non-integer values; the LIF's current must be exact integers")
    return codes.astype(np.int64)


def _set_weights(var, values: np.ndarray, precision, type_name: str) -> None:
    """New data and a type of the variable's own (hls4ml may share one NamedType between layers)."""
    var.data = np.asarray(values, dtype=np.float64).reshape(var.data.shape)
    var.type = NamedType(type_name, precision)
    var.update_precision(precision)
    var.nonzeros = int(np.count_nonzero(var.data))
    var.nzeros = var.data_length - var.nonzeros
    var.min, var.max = float(np.min(var.data)), float(np.max(var.data))


class FuseIntegerBiasIntoDense(OptimizerPass):
    """Dense → ApplyAlpha(scale 1, integer bias) → LIF: the bias moves into the Dense layer."""

    def match(self, node):
        if not isinstance(node, ApplyAlpha) or not isinstance(node.get_input_node(), Dense):
            return False
        outs = [n for n in node.model.get_layers() if node.outputs[0] in n.inputs]
        return len(outs) == 1 and isinstance(outs[0], LIF)

    def transform(self, model, node):
        dense = node.get_input_node()
        scale = np.asarray(node.get_weights("scale").data_unquantized, dtype=np.float64)
        bias = np.asarray(node.get_weights("bias").data_unquantized, dtype=np.float64).reshape(-1)
        if not np.all(scale == 1.0):
            raise UnsupportedGraphError(f"layer {node.name!r}: a scale other than 1 between Dense and LIF")
        bias = _as_integers(bias, f"bias of {node.name!r}") + _as_integers(
            dense.get_weights("bias").data, f"bias of {dense.name!r}"
        )
        _set_weights(dense.get_weights("bias"), bias, IntegerPrecisionType(_signed_bits(bias), signed=True), f"bias{dense.index}_t")
        dense.set_attr("use_bias", True)
        model.remove_node(node)
        return True


class ExactIntegerTypes(OptimizerPass):
    """Integer types, wide enough never to wrap, from the input spikes to the LIF's current."""

    def match(self, node):
        return isinstance(node, LIF) and not node.get_attr("exact_types", False)

    def transform(self, model, node):
        dense, wiring = _behind_wiring(node, node.inputs[0])
        if not isinstance(dense, _WEIGHTED):
            kind = type(dense).__name__ if dense is not None else "a graph input"
            raise UnsupportedGraphError(
                f"LIF layer {node.name!r}: its current must come from a Dense or Conv2D layer, not {kind}"
            )

        w = dense.get_weights("weight")
        if isinstance(w.type.precision, XnorPrecisionType):  # a BipolarQuant that reached hls4ml: 0/1 → −1/+1
            codes = 2 * _as_integers(w.data, f"weights of {dense.name!r}") - 1
        else:
            codes = _as_integers(w.data, f"weights of {dense.name!r}")
        width = max(getattr(w.type.precision, "width", 2), _signed_bits(codes), 2)
        if width == 2 and codes.min(initial=0) < -1:
            # hls4ml multiplies by a 2-bit signed integer type as if it were ternary {-1, 0, 1};
            # int2 codes reach -2, so they get the same bits as ap_fixed<2,2> and a true product
            wtype = FixedPrecisionType(2, 2, signed=True)
        else:
            wtype = IntegerPrecisionType(width, signed=True)
        _set_weights(w, codes, wtype, f"weight{dense.index}_t")

        b = dense.get_weights("bias")
        bias = _as_integers(b.data, f"bias of {dense.name!r}").reshape(-1)
        _set_weights(b, bias, IntegerPrecisionType(_signed_bits(bias), signed=True), f"bias{dense.index}_t")

        # Dense weights are [N_in, N], Conv2D's [K_h, K_w, C_in, C_out]: either way one column per output
        cbits = current_bits(codes.reshape(-1, bias.size).T, bias)
        cur = IntegerPrecisionType(cbits, signed=True)
        dense.set_attr("accum_t", NamedType(f"layer{dense.index}_accum_t", cur))
        for layer in [dense, *wiring]:  # the current, and its channel-major copy on the way to the LIF
            layer.get_output_variable().type.precision = cur
        _spike_types(dense)

        a = node.get_attr("acc_bits")
        node.get_attr("wide_t").precision = IntegerPrecisionType(max(a, cbits) + 3, signed=True)
        node.set_attr("current_bits", cbits)
        node.set_attr("exact_types", True)
        return False


def _spike_types(layer) -> None:
    """`ap_uint<1>` on every value between the spikes that feed `layer` (input or LIF) and `layer` itself."""
    src = layer.get_input_node(layer.inputs[0])
    while isinstance(src, _WIRING + (Pooling2D,)):
        src.get_output_variable().type.precision = spike_precision()
        if isinstance(src, Pooling2D):
            src.set_attr("accum_t", NamedType(f"layer{src.index}_accum_t", spike_precision()))
        src = src.get_input_node(src.inputs[0])
    if isinstance(src, Input):
        src.get_output_variable().type.precision = spike_precision()
    elif not isinstance(src, LIF):
        kind = type(src).__name__
        raise UnsupportedGraphError(f"layer {layer.name!r}: input must be the input spikes or a LIF layer's, not {kind}")
