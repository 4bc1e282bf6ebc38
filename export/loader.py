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
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, QuantLayer
from snn2fpga.core.maps import MapShape

QONNX_DOMAINS = ("qonnx.custom_op.general", "onnx.brevitas")
SUPPORTED_OPS = {
    "Quant": QONNX_DOMAINS,
    "BipolarQuant": QONNX_DOMAINS,
    "Transpose": ("",),
    "MatMul": ("",),
    "Div": ("",),
    "Add": ("",),
    "Reshape": ("",),
    "Conv": ("",),
    "MaxPool": ("",),
    "Flatten": ("",),
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


def _weights(g: _Graph, tensor: str, layer: int, conv: bool = False) -> tuple[np.ndarray, float, str]:
    """Integer codes [N, N_in] (conv: [C_out, C_in, K_h, K_w]), power-of-two scale, and the node kind of one layer's weight input."""
    from qonnx.custom_op.general.bipolar_quant import binary_quant
    from qonnx.custom_op.general.intquant import int_quant

    where = f"{g.where}: layer {layer}"
    transpose = None if conv else g.optional(tensor, "Transpose")
    if transpose is not None:
        perm = [a.ints for a in transpose.attribute if a.name == "perm"]
        if perm and list(perm[0]) != [1, 0]:
            raise UnsupportedModelError(f"{where}: Transpose {transpose.name!r} with perm {list(perm[0])}")
        tensor = transpose.input[0]
    q = g.node(tensor, ("Quant", "BipolarQuant"), f"layer {layer} weight")
    if len(q.input) != (2 if q.op_type == "BipolarQuant" else 4):
        raise ModelFileError(f"{where}: {q.op_type} node {q.name!r} has {len(q.input)} inputs")
    w = g.init(q.input[0], f"layer {layer} weight")
    if w.ndim != (4 if conv else 2):
        raise ModelFileError(f"{where}: weight {q.input[0]!r} has shape {list(w.shape)}, expected {'4-D' if conv else '2-D'}")
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
    return (codes if transpose is not None or conv else codes.T), s, kind


def _quant_matches(quant: str, kind: str) -> bool:
    """Is a metadata quantizer name consistent with the Quant node found (binary ↔ BipolarQuant, …)?"""
    if quant == "binary":
        return kind == "binary"
    if quant == "ternary":
        return kind == "int2"
    return quant == kind


def _ints(node: NodeProto, name: str) -> Optional[list[int]]:
    """An int-list attribute of `node`, or None if absent."""
    for a in node.attribute:
        if a.name == name:
            return [int(v) for v in onnx.helper.get_attribute_value(a)]
    return None


def _refuse_attrs(node: NodeProto, allowed: set[str], lw: str) -> None:
    """UnsupportedModelError for an attribute the layout does not use (auto_pad, ceil_mode, …), naming the node."""
    for a in node.attribute:
        if a.name in allowed:
            continue
        value = onnx.helper.get_attribute_value(a)
        if (a.name, value) in (("auto_pad", b"NOTSET"), ("ceil_mode", 0), ("storage_order", 0), ("group", 1)):
            continue
        raise UnsupportedModelError(f"{lw}: {node.op_type} {node.name!r} has {a.name}={value!r}, which the hardware layers do not support")


def _check_flatten(flatten: NodeProto, lw: str) -> None:
    """A Flatten of the layout: [B, C, H, W] → [B, C·H·W] (axis 1)."""
    _refuse_attrs(flatten, {"axis"}, lw)
    if _attr(flatten, "axis", 1) != 1:
        raise UnsupportedModelError(f"{lw}: Flatten {flatten.name!r} with axis {_attr(flatten, 'axis', 1)}; the layout flattens [B, C, H, W] at axis 1")


def _map_input(g: _Graph, tensor: str, x: str, n_prev: int, i: int, lw: str) -> MapShape:
    """The C×H×W of the Reshape producing `tensor` from the previous layer's flat spikes `x`."""
    reshape = g.node(tensor, ("Reshape",), f"layer {i} map input")
    if reshape.input[0] != x:
        raise ModelFileError(f"{lw}: Reshape {reshape.name!r} reads {reshape.input[0]!r}, expected {x!r}")
    shape = g.init(reshape.input[1], f"layer {i} map shape").astype(np.int64).ravel().tolist()
    if len(shape) != 4 or shape[0] not in (-1, 1) or min(shape[1:]) < 1 or shape[1] * shape[2] * shape[3] != n_prev:
        raise UnsupportedModelError(f"{lw}: Reshape {reshape.name!r} to {shape}; expected [-1, C, H, W] with C·H·W = {n_prev} inputs")
    return MapShape(*shape[1:])


def _bias_and_div(g: _Graph, current: str, i: int, lw: str, conv: bool) -> tuple[Optional[np.ndarray], NodeProto]:
    """The optional bias Add (integers; a conv's shaped [C_out, 1, 1]) producing `current`, and the Div before it."""
    add = g.optional(current, "Add")
    bias = None
    if add is not None:
        bias = g.init(add.input[1], f"layer {i} bias")
        if conv and (bias.ndim != 3 or bias.shape[1:] != (1, 1)):
            raise ModelFileError(f"{lw}: conv bias {add.input[1]!r} has shape {list(bias.shape)}, expected [C_out, 1, 1]")
        bias = bias.ravel()
        if not np.array_equal(bias, np.rint(bias)):
            raise UnsupportedModelError(f"{lw}: bias {add.input[1]!r} is not integer in units of the weight scale")
        current = add.input[0]
    return bias, g.node(current, ("Div",), f"layer {i} current")


def _check_unscale(g: _Graph, div: NodeProto, scale: float, i: int, lw: str) -> None:
    """The Div must divide by exactly the weight scale, so that currents are integers."""
    unscale = g.init(div.input[1], f"layer {i} current scale")
    if unscale.size != 1 or float(unscale.reshape(())) != scale:
        raise UnsupportedModelError(f"{lw}: Div {div.name!r} divides by {unscale.ravel().tolist()}, not the weight scale {scale!r}: currents would not be integers")


def _conv_layer(g: _Graph, flatten: NodeProto, x: str, n_prev: int, i: int, lw: str) -> tuple[dict, float, str]:
    """Reshape → Conv(·, Quant(W)) → Div → [Add] → Flatten before a LIF: the ConvLayer's fields, scale, weight kind."""
    _check_flatten(flatten, lw)
    bias, div = _bias_and_div(g, flatten.input[0], i, lw, conv=True)
    conv = g.node(div.input[0], ("Conv",), f"layer {i} scaled current")
    if len(conv.input) != 2:
        raise UnsupportedModelError(f"{lw}: Conv {conv.name!r} has a bias input; the layout adds the integer bias after the Div")
    _refuse_attrs(conv, {"kernel_shape", "strides", "pads", "dilations"}, lw)
    codes, scale, kind = _weights(g, conv.input[1], i, conv=True)
    kernel = list(codes.shape[2:])
    if (_ints(conv, "kernel_shape") or kernel) != kernel:
        raise ModelFileError(f"{lw}: Conv {conv.name!r} kernel_shape {_ints(conv, 'kernel_shape')} differs from its weights' {kernel}")
    if (_ints(conv, "dilations") or [1, 1]) != [1, 1]:
        raise UnsupportedModelError(f"{lw}: Conv {conv.name!r} has dilations {_ints(conv, 'dilations')}; only 1 is supported")
    strides = _ints(conv, "strides") or [1, 1]
    if len(strides) != 2 or strides[0] != strides[1]:
        raise UnsupportedModelError(f"{lw}: Conv {conv.name!r} has strides {strides}; only one stride for both axes is supported")
    pads = _ints(conv, "pads") or [0, 0, 0, 0]
    if len(pads) != 4 or len(set(pads)) != 1:
        raise UnsupportedModelError(f"{lw}: Conv {conv.name!r} has pads {pads}; only the same zero padding on every side is supported")
    in_shape = _map_input(g, conv.input[0], x, n_prev, i, lw)
    _check_unscale(g, div, scale, i, lw)
    if bias is not None and bias.shape != (codes.shape[0],):
        raise ModelFileError(f"{lw}: bias has {bias.size} entries for {codes.shape[0]} output channels")
    layer = dict(weights=codes, in_shape=in_shape, stride=strides[0], padding=pads[0],
                 bias=None if bias is None else bias.astype(np.int64))
    return layer, scale, kind


def _dense_layer(g: _Graph, current: str, x: str, n_prev: int, n_state: int, i: int, lw: str) -> tuple[dict, float, str]:
    """Quant → [Transpose] → MatMul → Div → [Add] before a LIF: the dense layer's weights and bias, scale, kind."""
    bias, div = _bias_and_div(g, current, i, lw, conv=False)
    matmul = g.node(div.input[0], ("MatMul", "Conv"), f"layer {i} scaled current")
    if matmul.op_type == "Conv":
        raise ModelFileError(f"{lw}: Conv {matmul.name!r} must be followed by Div → [Add] → Flatten(axis 1) before the LIF")
    if matmul.input[0] != x:
        raise ModelFileError(f"{lw}: MatMul {matmul.name!r} reads {matmul.input[0]!r}, expected {x!r}")
    codes, scale, kind = _weights(g, matmul.input[1], i)
    _check_unscale(g, div, scale, i, lw)
    if codes.shape != (n_state, n_prev):
        raise ModelFileError(f"{lw}: weights have shape {list(codes.shape)} (as [N, N_in]); the layer has {n_prev} inputs and {n_state} neurons")
    if bias is not None and bias.shape != (codes.shape[0],):
        raise ModelFileError(f"{lw}: bias has shape {list(bias.shape)}, expected [{codes.shape[0]}]")
    return dict(weights=codes, bias=None if bias is None else bias.astype(np.int64)), scale, kind


def _pool_layer(g: _Graph, flatten: NodeProto, x: str, n_prev: int, i: int, lw: str) -> PoolLayer:
    """Reshape → MaxPool(k×k, stride k) → Flatten: the PoolLayer."""
    _check_flatten(flatten, lw)
    pool = g.node(flatten.input[0], ("MaxPool",), f"layer {i} pooled map")
    if len(pool.output) != 1:
        raise UnsupportedModelError(f"{lw}: MaxPool {pool.name!r} has an Indices output")
    _refuse_attrs(pool, {"kernel_shape", "strides", "pads", "dilations"}, lw)
    kernel = _ints(pool, "kernel_shape") or []
    strides = _ints(pool, "strides") or [1, 1]
    if len(kernel) != 2 or kernel[0] != kernel[1] or strides != kernel:
        raise UnsupportedModelError(f"{lw}: MaxPool {pool.name!r} has kernel {kernel}, strides {strides}; only a k×k window with stride k is supported")
    if any(_ints(pool, "pads") or [0]):
        raise UnsupportedModelError(f"{lw}: MaxPool {pool.name!r} has pads {_ints(pool, 'pads')}; the pool has none")
    if (_ints(pool, "dilations") or [1, 1]) != [1, 1]:
        raise UnsupportedModelError(f"{lw}: MaxPool {pool.name!r} has dilations {_ints(pool, 'dilations')}; only 1 is supported")
    in_shape = _map_input(g, pool.input[0], x, n_prev, i, lw)
    try:
        return PoolLayer(in_shape, kernel[0])
    except ContractError as e:
        raise ModelFileError(f"{lw}: {e}") from None


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
    n_lif = len(lifs)
    if n_lif == 0:
        raise UnsupportedModelError(f"{where}: no LIF node")
    L = len(g.g.output) - n_lif  # layers, pools included
    if len(g.g.input) != 1 + n_lif or L < n_lif:
        raise ModelFileError(f"{where}: {n_lif} LIF layers need {1 + n_lif} graph inputs and at least {2 * n_lif} outputs, found {len(g.g.input)} and {len(g.g.output)}")
    if len(meta.weight_quants) != n_lif or len(meta.weight_scales) != n_lif:
        raise ModelFileError(f"{where}: metadata lists {len(meta.weight_quants)} weight quantizers for {n_lif} LIF layers")
    x = g.g.input[0].name
    n_prev = _width(g.g.input[0], where)
    layers = []
    j = 0  # index among the LIF layers
    for i in range(L):
        lw = f"{where}: layer {i}"
        spikes_out = g.g.output[i]
        producer = g.producer.get(spikes_out.name)
        if producer is not None and producer.op_type == "Flatten" and g.producer.get(producer.input[0]) is not None \
                and g.producer[producer.input[0]].op_type == "MaxPool":
            g.used.add(id(producer))
            layer = _pool_layer(g, producer, x, n_prev, i, lw)
            if _width(spikes_out, lw) != layer.n_out:
                raise ModelFileError(f"{lw}: graph output {spikes_out.name!r} has {_width(spikes_out, lw)} values; the pool makes {layer.out_shape}")
            layers.append(layer)
            x, n_prev = spikes_out.name, layer.n_out
            continue
        if producer is None or producer.op_type != OP_TYPE:
            found = "a graph input or constant" if producer is None else f"{producer.op_type} node {producer.name!r}"
            raise UnsupportedModelError(f"{lw}: graph output {i} ({spikes_out.name!r}) must come from a LIF node or a MaxPool → Flatten, found {found}")
        if j >= n_lif:
            raise ModelFileError(f"{lw}: more LIF outputs than the {n_lif} LIF layers")
        lif = producer
        g.used.add(id(lif))
        if len(lif.input) != 2 or len(lif.output) != 2:
            raise ModelFileError(f"{lw}: LIF node {lif.name!r} needs 2 inputs and 2 outputs")
        state_in, state_out = g.g.input[1 + j], g.g.output[L + j]
        if lif.input[1] != state_in.name or lif.output[0] != spikes_out.name or lif.output[1] != state_out.name:
            raise ModelFileError(f"{lw}: LIF node {lif.name!r} is not wired to graph input {1 + j} and outputs {i}, {L + j}")
        try:
            params = lif_params(lif)
        except LIFAttributeError as e:
            raise LIFAttributeError(f"{lw}: {e}") from None
        flatten = g.optional(lif.input[0], "Flatten")
        if flatten is not None:
            fields, scale, kind = _conv_layer(g, flatten, x, n_prev, i, lw)
        else:
            fields, scale, kind = _dense_layer(g, lif.input[0], x, n_prev, _width(state_in, lw), i, lw)
        quant = meta.weight_quants[j]
        if quant not in WEIGHT_QUANTS:
            raise ModelFileError(f"{lw}: weight quantizer {quant!r} unknown; choose one of {', '.join(WEIGHT_QUANTS)}")
        if not _quant_matches(quant, kind):
            raise ModelFileError(f"{lw}: metadata says weights are {quant!r} but the graph quantizes them as {kind!r}")
        if meta.weight_scales[j] != scale:
            raise ModelFileError(f"{lw}: metadata weight scale {meta.weight_scales[j]!r} differs from the graph's {scale!r}")
        try:
            layer = ConvLayer(**fields, weight_quant=quant, lif=params) if flatten is not None else QuantLayer(**fields, weight_quant=quant, lif=params)
        except ContractError as e:
            raise ModelFileError(f"{lw}: {e}") from None
        n_state = _width(state_in, lw)
        if n_state != layer.n_out or _width(spikes_out, lw) != layer.n_out or _width(state_out, lw) != layer.n_out:
            raise ModelFileError(f"{lw}: the layer has {layer.n_out} neurons but its graph tensors have {n_state} (state) and "
                                 f"{_width(spikes_out, lw)} (spikes)")
        layers.append(layer)
        x, n_prev = spikes_out.name, layer.n_out
        j += 1
    if j != n_lif:
        raise ModelFileError(f"{where}: {n_lif} LIF nodes but {j} of them drive the graph's spike outputs")
    stray = [n.name or n.op_type for n in g.g.node if id(n) not in g.used]
    if stray:
        raise UnsupportedModelError(f"{where}: node(s) {stray} are not part of any dense, conv or pool layer of the layout (docs/export.md)")
    try:
        net = GoldenNetwork(layers)
    except ContractError as e:
        raise ModelFileError(f"{where}: {e}") from None
    sizes = tuple(net.layers[i].n_out for i in net.lif_layers)
    if meta.layer_sizes != sizes or meta.n_in != net.n_in or meta.n_classes != net.layers[-1].n_out:
        raise ModelFileError(f"{where}: metadata sizes n_in={meta.n_in}, layers={list(meta.layer_sizes)} differ from the graph's {net.n_in}, {list(sizes)}")
    kinds = tuple(layer.kind for layer in net.layers)
    if (meta.layer_kinds or ("dense",) * len(kinds)) != kinds:
        raise ModelFileError(f"{where}: metadata layer_kinds {list(meta.layer_kinds or [])} differ from the graph's {list(kinds)}")
    return net, meta
