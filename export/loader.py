"""Read a model.qonnx back into the golden model: integer weight codes + LIFParams, validated.

`load_network(path)` is what rtl/ and hls/ call. It allow-lists the graph it accepts (the
layout of docs/export.md, before or after qonnx cleanup), computes each layer's weights as
qonnx's Quant op does, and refuses anything the hardware cannot take
(UnsupportedModelError) or a malformed/tampered file (ModelFileError), naming the part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np
import onnx
from onnx import NodeProto, numpy_helper

from snn2fpga.export.errors import LIFAttributeError, ModelFileError, UnsupportedModelError
from snn2fpga.export.lif_op import DOMAIN, OP_TYPE, lif_params
from snn2fpga.export.meta import ExportMeta
from snn2fpga.export.qonnx_export import MODEL_FILE, is_power_of_two
from snn2fpga.core.contract import WEIGHT_QUANTS, ContractError
from snn2fpga.core.golden import GoldenNetwork, QuantLayer

QONNX_DOMAINS = ("qonnx.custom_op.general", "onnx.brevitas")
SUPPORTED_OPS = {
    "Quant": QONNX_DOMAINS,
    "BipolarQuant": QONNX_DOMAINS,
    "Transpose": ("",),
    "MatMul": ("",),
    "Div": ("",),
    "Add": ("",),
    OP_TYPE: (DOMAIN,),
}
MAX_WEIGHT_BITS = 8


def resolve_path(path: Union[str, Path]) -> Path:
    """A .qonnx file, or the run folder holding model.qonnx."""
    path = Path(path)
    if path.is_dir():
        path = path / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path}: not exported yet; run `make export MODEL={path.parent}`")
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    return path


def load_network(path: Union[str, Path]) -> tuple[GoldenNetwork, ExportMeta]:
    """(GoldenNetwork, ExportMeta) of a model.qonnx file or of a run folder holding one."""
    path = resolve_path(path)
    try:
        proto = onnx.load(str(path))
    except Exception as e:  # protobuf DecodeError and friends
        raise ModelFileError(f"{path}: not an ONNX model ({e})") from None
    return parse_model(proto, str(path))


class _Graph:
    """Index of one ONNX graph: initializers, producers, consumers; remembers which nodes a parse used."""

    def __init__(self, proto: onnx.ModelProto, where: str) -> None:
        self.g, self.where = proto.graph, where
        self.inits = {t.name: t for t in self.g.initializer}
        self.producer = {o: n for n in self.g.node for o in n.output}
        self.used: set[int] = set()

    def init(self, name: str, what: str) -> np.ndarray:
        """Value of initializer `name`; ModelFileError if the tensor is computed instead."""
        if name not in self.inits:
            raise ModelFileError(f"{self.where}: {what} {name!r} must be a constant initializer")
        return numpy_helper.to_array(self.inits[name]).astype(np.float64)

    def node(self, tensor: str, ops: tuple[str, ...], what: str) -> NodeProto:
        """The node producing `tensor`, which must be one of `ops`."""
        n = self.producer.get(tensor)
        if n is None or n.op_type not in ops:
            found = "a graph input or constant" if n is None else f"{n.op_type} node {n.name!r}"
            raise ModelFileError(f"{self.where}: {what} {tensor!r} must come from {' or '.join(ops)}, found {found}")
        self.used.add(id(n))
        return n

    def optional(self, tensor: str, op: str) -> Optional[NodeProto]:
        """The node producing `tensor` if it is an `op`, else None."""
        n = self.producer.get(tensor)
        if n is not None and n.op_type == op:
            self.used.add(id(n))
            return n
        return None


def _attr(node: NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(onnx.helper.get_attribute_value(a))
    return default


def _width(vi: onnx.ValueInfoProto, where: str) -> int:
    """N of a graph input declared [batch, N]; ModelFileError for any other shape."""
    dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    if len(dims) != 2 or dims[1] < 1:
        raise ModelFileError(f"{where}: graph tensor {vi.name!r} has shape {dims}, expected [batch, N]")
    return dims[1]


def _weights(g: _Graph, tensor: str, layer: int) -> tuple[np.ndarray, float, str]:
    """Integer codes [N, N_in], power-of-two scale, and the node kind of one layer's weight input."""
    from qonnx.custom_op.general.bipolar_quant import binary_quant
    from qonnx.custom_op.general.intquant import int_quant

    where = f"{g.where}: layer {layer}"
    transpose = g.optional(tensor, "Transpose")
    if transpose is not None:
        perm = [a.ints for a in transpose.attribute if a.name == "perm"]
        if perm and list(perm[0]) != [1, 0]:
            raise UnsupportedModelError(f"{where}: Transpose {transpose.name!r} with perm {list(perm[0])}")
        tensor = transpose.input[0]
    q = g.node(tensor, ("Quant", "BipolarQuant"), f"layer {layer} weight")
    if len(q.input) != (2 if q.op_type == "BipolarQuant" else 4):
        raise ModelFileError(f"{where}: {q.op_type} node {q.name!r} has {len(q.input)} inputs")
    w = g.init(q.input[0], f"layer {layer} weight")
    if w.ndim != 2:
        raise ModelFileError(f"{where}: weight {q.input[0]!r} has shape {list(w.shape)}, expected 2-D")
    scale = g.init(q.input[1], f"layer {layer} weight scale")
    if scale.size != 1:
        raise UnsupportedModelError(f"{where}: weight scale of shape {list(scale.shape)}; only one scale per layer is supported")
    s = float(scale.reshape(()))
    if not is_power_of_two(s):
        raise UnsupportedModelError(f"{where}: weight scale {s!r} of {q.name!r} is not a power of two, so codes are not integer-exact")
    if q.op_type == "BipolarQuant":
        out, kind = binary_quant(w, np.float64(s)), "binary"
    else:
        zp = g.init(q.input[2], f"layer {layer} zero point")
        bits = g.init(q.input[3], f"layer {layer} bit width")
        if np.any(zp != 0):
            raise UnsupportedModelError(f"{where}: zero point {zp.ravel().tolist()} of {q.name!r}; only symmetric (0) is supported")
        b = float(bits.reshape(())) if bits.size == 1 else float("nan")
        if not (b == int(b) and 2 <= b <= MAX_WEIGHT_BITS):
            raise UnsupportedModelError(f"{where}: weight bit width {bits.ravel().tolist()} of {q.name!r} out of range 2..{MAX_WEIGHT_BITS}")
        if not _attr(q, "signed", 1):
            raise UnsupportedModelError(f"{where}: unsigned weights in {q.name!r}; the hardware takes signed codes")
        narrow = _attr(q, "narrow", 0)
        mode = next((a.s.decode() for a in q.attribute if a.name == "rounding_mode"), "ROUND")
        out, kind = int_quant(w, np.array(s), np.array(0.0), np.array(b), 1, narrow, mode), f"int{int(b)}"
    codes = np.asarray(out, dtype=np.float64) / s
    if not np.array_equal(codes, np.rint(codes)):
        raise UnsupportedModelError(f"{where}: weights of {q.name!r} are not integer multiples of the scale {s!r}")
    codes = np.rint(codes).astype(np.int64)
    return (codes if transpose is not None else codes.T), s, kind


def _quant_matches(quant: str, kind: str) -> bool:
    """Is a metadata quantizer name consistent with the Quant node found (binary ↔ BipolarQuant, …)?"""
    if quant == "binary":
        return kind == "binary"
    if quant == "ternary":
        return kind == "int2"
    return quant == kind


def parse_model(proto: onnx.ModelProto, where: str = "<model>") -> tuple[GoldenNetwork, ExportMeta]:
    """(GoldenNetwork, ExportMeta) of an in-memory QONNX model in the export layout (docs/export.md)."""
    g = _Graph(proto, where)
    for n in g.g.node:
        domains = SUPPORTED_OPS.get(n.op_type)
        if domains is None or n.domain not in domains:
            supported = ", ".join(f"{op} ({d[0] or 'onnx'})" for op, d in SUPPORTED_OPS.items())
            raise UnsupportedModelError(f"{where}: node {n.name!r} is {n.op_type!r} in domain {n.domain!r}; supported: {supported}")
    meta = ExportMeta.from_props({p.key: p.value for p in proto.metadata_props}, where)
    lifs = [n for n in g.g.node if n.op_type == OP_TYPE]
    L = len(lifs)
    if L == 0:
        raise UnsupportedModelError(f"{where}: no LIF node")
    if len(g.g.input) != 1 + L or len(g.g.output) != 2 * L:
        raise ModelFileError(f"{where}: {L} LIF layers need {1 + L} graph inputs and {2 * L} outputs, found {len(g.g.input)} and {len(g.g.output)}")
    if len(meta.weight_quants) != L or len(meta.weight_scales) != L:
        raise ModelFileError(f"{where}: metadata lists {len(meta.weight_quants)} weight quantizers for {L} LIF layers")
    x = g.g.input[0].name
    n_prev = _width(g.g.input[0], where)
    layers = []
    for i, lif in enumerate(lifs):
        g.used.add(id(lif))
        lw = f"{where}: layer {i}"
        if len(lif.input) != 2 or len(lif.output) != 2:
            raise ModelFileError(f"{lw}: LIF node {lif.name!r} needs 2 inputs and 2 outputs")
        state_in, spikes_out, state_out = g.g.input[1 + i], g.g.output[i], g.g.output[L + i]
        if lif.input[1] != state_in.name or lif.output[0] != spikes_out.name or lif.output[1] != state_out.name:
            raise ModelFileError(f"{lw}: LIF node {lif.name!r} is not wired to graph input {1 + i} and outputs {i}, {L + i}")
        try:
            params = lif_params(lif)
        except LIFAttributeError as e:
            raise LIFAttributeError(f"{lw}: {e}") from None
        current = lif.input[0]
        add = g.optional(current, "Add")
        bias = None
        if add is not None:
            bias = g.init(add.input[1], f"layer {i} bias").ravel()
            if not np.array_equal(bias, np.rint(bias)):
                raise UnsupportedModelError(f"{lw}: bias {add.input[1]!r} is not integer in units of the weight scale")
            current = add.input[0]
        div = g.node(current, ("Div",), f"layer {i} current")
        matmul = g.node(div.input[0], ("MatMul",), f"layer {i} scaled current")
        if matmul.input[0] != x:
            raise ModelFileError(f"{lw}: MatMul {matmul.name!r} reads {matmul.input[0]!r}, expected {x!r}")
        codes, scale, kind = _weights(g, matmul.input[1], i)
        unscale = g.init(div.input[1], f"layer {i} current scale")
        if unscale.size != 1 or float(unscale.reshape(())) != scale:
            raise UnsupportedModelError(f"{lw}: Div {div.name!r} divides by {unscale.ravel().tolist()}, not the weight scale {scale!r}: currents would not be integers")
        n_state = _width(state_in, lw)
        if codes.shape != (n_state, n_prev):
            raise ModelFileError(f"{lw}: weights have shape {list(codes.shape)} (as [N, N_in]); the layer has {n_prev} inputs and {n_state} neurons")
        if bias is not None and bias.shape != (n_state,):
            raise ModelFileError(f"{lw}: bias has shape {list(bias.shape)}, expected [{n_state}]")
        quant = meta.weight_quants[i]
        if quant not in WEIGHT_QUANTS:
            raise ModelFileError(f"{lw}: weight quantizer {quant!r} unknown; choose one of {', '.join(WEIGHT_QUANTS)}")
        if not _quant_matches(quant, kind):
            raise ModelFileError(f"{lw}: metadata says weights are {quant!r} but the graph quantizes them as {kind!r}")
        if meta.weight_scales[i] != scale:
            raise ModelFileError(f"{lw}: metadata weight scale {meta.weight_scales[i]!r} differs from the graph's {scale!r}")
        try:
            layers.append(QuantLayer(codes, quant, params, None if bias is None else bias.astype(np.int64)))
        except ContractError as e:
            raise ModelFileError(f"{lw}: {e}") from None
        x, n_prev = lif.output[0], n_state
    stray = [n.name or n.op_type for n in g.g.node if id(n) not in g.used]
    if stray:
        raise UnsupportedModelError(f"{where}: node(s) {stray} are not part of any Quant→MatMul→Div→[Add]→LIF layer")
    net = GoldenNetwork(layers)
    sizes = tuple(layer.n_out for layer in layers)
    if meta.layer_sizes != sizes or meta.n_in != net.n_in or meta.n_classes != sizes[-1]:
        raise ModelFileError(f"{where}: metadata sizes n_in={meta.n_in}, layers={list(meta.layer_sizes)} differ from the graph's {net.n_in}, {list(sizes)}")
    return net, meta
