"""model.qonnx → the QONNX graph hls4ml converts: qonnx transformations, each `apply(model) -> (model, changed)`.

export/ writes one time step with the membrane codes as graph inputs and outputs
(DESIGN §4). For hls4ml the graph becomes:

- inputs: `spikes` [1, N_in] and `reset` [1, 1]; outputs: every layer's spikes (pools included), in order;
- per dense layer `Quant(codes, scale 1, zero 0, b bits) → MatMul → [Add(bias)] → LIF(current, reset)`,
  per conv layer `Quant(codes) → Conv(x, W, [bias]) → Flatten → LIF`, per pool `MaxPool → Flatten`,
  the LIF in `snn2fpga.hls.stateful_op` (membrane codes kept inside the layer, see `snn2fpga.hls.stateful_op`);
- the weight scale folded away: whatever Quant/BipolarQuant/Mul/Div chain export wrote,
  the weights reaching the LIF must be integers (the current is in integer units of the
  weight scale, docs/contract.md), else `UnsupportedGraphError`.

Around the rewrite: qonnx's cleanup (shape inference, constant folding, unique names),
batch size 1, Gemm → MatMul (a bias-less Gemm first gets a zero bias, which qonnx's
GemmToMatMul needs) and qonnx's channels-last Conv/MaxPool that hls4ml expects, each
between Transposes so every LIF and every output stays channel-major (`ChannelsLastMaps`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.channels_last import InsertChannelsLastDomainsAndTrafos
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.transformation.infer_datatypes import InferDataTypes
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit
from qonnx.util.cleanup import cleanup_model

import snn2fpga.export.lif_op as export_lif
from snn2fpga.hls.errors import UnsupportedGraphError
from snn2fpga.hls.stateful_op import DOMAIN as STATE_DOMAIN
from snn2fpga.hls.stateful_op import make_stateful_lif_node
from snn2fpga.core.contract import LIFParams, signed_bits

SPIKES_INPUT = "spikes"
RESET_INPUT = "reset"

# op types a graph may hold on the way in (export's layout plus what Brevitas/qonnx may add)
SUPPORTED_OPS = (
    "MatMul", "Gemm", "Conv", "MaxPool", "Reshape", "Flatten", "Quant", "BipolarQuant", "Mul", "Div", "Add", "Transpose",
    "Identity", "LIF",
)  # fmt: skip
_AFFINE_OPS = ("Mul", "Div", "Add")
_WEIGHTED_OPS = ("MatMul", "Conv")


@dataclass(frozen=True)
class PreparedLayer:
    """One layer of the prepared graph: Dense → LIF, Conv → LIF, or a MaxPool (OR) of spikes, in integer form."""

    name: str  # the LIF node (a pool: its MaxPool node)
    n_in: int
    n_out: int
    weight_bits: int  # bits of a stored weight code (binary: 2, holding ±1); 0 for a pool
    params: LIFParams | None  # None for a pool
    kind: str = "dense"  # "dense", "conv" or "pool"


@dataclass
class PreparedModel:
    """The hls4ml-ready graph, its layers and the names of its two inputs."""

    model: ModelWrapper
    layers: list[PreparedLayer]
    spikes_input: str = SPIKES_INPUT
    reset_input: str = RESET_INPUT

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in


def _consumers(model: ModelWrapper, tensor: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if tensor in n.input]


def _producer(model: ModelWrapper, tensor: str):
    return next((n for n in model.graph.node if tensor in n.output), None)


def _remove_dead_nodes(model: ModelWrapper) -> None:
    """Drop nodes none of whose outputs is used (weight subgraphs left behind by a rewrite)."""
    outputs = {o.name for o in model.graph.output}
    changed = True
    while changed:
        changed = False
        used = {i for n in model.graph.node for i in n.input} | outputs
        for n in list(model.graph.node):
            if not any(o in used for o in n.output):
                model.graph.node.remove(n)
                changed = True


def _constant(model: ModelWrapper, tensor: str) -> np.ndarray | None:
    """Value of `tensor` if it is constant: an initializer, or Quant/BipolarQuant/Transpose/Identity of constants."""
    value = model.get_initializer(tensor)
    if value is not None:
        return np.asarray(value)
    node = _producer(model, tensor)
    if node is None or node.op_type not in ("Quant", "BipolarQuant", "Transpose", "Identity"):
        return None
    args = [_constant(model, i) for i in node.input]
    if any(a is None for a in args):
        return None
    if node.op_type == "Identity":
        return args[0]
    if node.op_type == "Transpose":
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        return np.transpose(args[0], perm)
    context = dict(zip(node.input, args))
    getCustomOp(node).execute_node(context, model.graph)
    return np.asarray(context[node.output[0]])


class CheckSupportedOps(Transformation):
    """Allow-list of op types; names the first node outside it."""

    def apply(self, model):
        for n in model.graph.node:
            if n.op_type not in SUPPORTED_OPS:
                raise UnsupportedGraphError(
                    f"node {n.name!r}: op {n.op_type!r} is not supported by hls/; supported: {', '.join(SUPPORTED_OPS)}"
                )
            if n.op_type == "LIF" and n.domain not in (export_lif.DOMAIN, STATE_DOMAIN):
                raise UnsupportedGraphError(f"node {n.name!r}: LIF in domain {n.domain!r}, expected {export_lif.DOMAIN!r}")
        return model, False


class AddZeroGemmBias(Transformation):
    """Give a bias-less Gemm an explicit zero bias C (qonnx's GemmToMatMul needs three inputs)."""

    def apply(self, model):
        changed = False
        for n in model.graph.node:
            if n.op_type == "Gemm" and len(n.input) == 2:
                shape = model.get_tensor_shape(n.output[0])
                if shape is None:
                    raise UnsupportedGraphError(f"Gemm node {n.name!r}: output shape unknown, run shape inference first")
                name = model.make_new_valueinfo_name()
                model.set_initializer(name, np.zeros(shape[-1], dtype=np.float32))
                n.input.append(name)
                changed = True
        return model, changed


class ExplicitMapAttributes(Transformation):
    """Spell out Conv/MaxPool defaults (strides, pads, dilations, group) that qonnx's channels-last ops and hls4ml read.

    qonnx's channels-last Conv/MaxPool and hls4ml's ONNX handlers read these attributes
    without ONNX's defaults; settings outside the contract (dilation, groups, auto_pad,
    ceil_mode) are refused, naming the node.
    """

    def apply(self, model):
        for n in model.graph.node:
            if n.op_type not in ("Conv", "MaxPool"):
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
            kernel = list(attrs.get("kernel_shape", []))
            if len(kernel) != 2:
                raise UnsupportedGraphError(f"{n.op_type} node {n.name!r}: only 2-D kernels are supported, got {kernel}")
            bad = {
                "auto_pad": attrs.get("auto_pad", "NOTSET") != "NOTSET",
                "dilations": list(attrs.get("dilations", [1, 1])) != [1, 1],
                "group": int(attrs.get("group", 1)) != 1,
                "ceil_mode": int(attrs.get("ceil_mode", 0)) != 0,
            }
            for name, wrong in bad.items():
                if wrong:
                    raise UnsupportedGraphError(
                        f"{n.op_type} node {n.name!r}: {name}={attrs[name]!r} is not supported (docs/contract.md)"
                    )
            defaults = {"strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1]}
            if n.op_type == "Conv":
                defaults["group"] = 1
            for name, value in defaults.items():
                if name not in attrs:
                    n.attribute.append(helper.make_attribute(name, value))
        return model, False


class MembraneToState(Transformation):
    """export's LIF(current, m_prev) → (spikes, m_new) becomes the stateful LIF(current, reset) → spikes.

    The membrane graph inputs and outputs disappear; a `reset` input [1, 1] is added; the
    graph outputs that stay are every layer's spikes (pools included), in export's order.
    """

    def apply(self, model):
        graph = model.graph
        lifs = [n for n in graph.node if n.op_type == "LIF" and n.domain == export_lif.DOMAIN]
        if not lifs:
            return model, False
        inputs = {i.name: i for i in graph.input}
        removed = set()
        for n in lifs:
            p = export_lif.lif_params(n)
            if len(n.input) != 2 or len(n.output) != 2:
                raise UnsupportedGraphError(f"LIF node {n.name!r}: needs inputs (current, m_prev) and outputs (spikes, m_new)")
            m_prev, m_new = n.input[1], n.output[1]
            if m_prev not in inputs:
                raise UnsupportedGraphError(f"LIF node {n.name!r}: membrane input {m_prev!r} is not a graph input")
            if _consumers(model, m_new) or len(_consumers(model, m_prev)) != 1:
                raise UnsupportedGraphError(f"LIF node {n.name!r}: membrane tensors must only connect to the graph I/O")
            graph.input.remove(inputs[m_prev])
            for vi in [v for v in graph.value_info if v.name in (m_new, m_prev)]:
                graph.value_info.remove(vi)
            idx = list(graph.node).index(n)
            graph.node.remove(n)
            graph.node.insert(idx, make_stateful_lif_node(n.input[0], RESET_INPUT, n.output[0], p, n.name))
            removed.add(m_new)
        graph.input.append(helper.make_tensor_value_info(RESET_INPUT, TensorProto.FLOAT, [1, 1]))
        spikes = [o.name for o in graph.output if o.name not in removed]  # every layer's spikes, pools included
        while len(graph.output):
            graph.output.pop()
        for s in spikes:
            graph.output.append(helper.make_tensor_value_info(s, TensorProto.FLOAT, None))
        return model, False


class CanonicalWeights(Transformation):
    """Fold each layer's weight path into `Quant(integer codes, 1, 0, b) → MatMul → [Add(bias)]`.

    Accepts MatMul(x, W) followed by any chain of Mul/Div/Add by constants before the LIF,
    W any constant subgraph (Quant/BipolarQuant of an initializer, Transpose, ...). The
    effective weights and bias must be integers.
    """

    def apply(self, model):
        for lif in [n for n in model.graph.node if n.op_type == "LIF" and n.domain == STATE_DOMAIN]:
            self._canonicalize(model, lif)
        _remove_dead_nodes(model)
        return model, False

    @staticmethod
    def _declared_bits(model: ModelWrapper, weight: str) -> int | None:
        """Bit width the weight quantizer declares (BipolarQuant: 2, holding ±1), if one is found."""
        node = _producer(model, weight)
        while node is not None:
            if node.op_type == "BipolarQuant":
                return 2
            if node.op_type == "Quant":
                return int(np.ceil(float(model.get_initializer(node.input[3]))))
            node = _producer(model, node.input[0]) if node.op_type in ("Transpose", "Identity") else None
        return None

    @staticmethod
    def _per_output(c: np.ndarray, n_out: int, conv: bool, where: str, node) -> np.ndarray | float:
        """A Mul/Div/Add constant as a scalar or one value per output (conv: per channel, shape [C_out, 1, 1])."""
        if np.size(c) == 1:
            return float(np.asarray(c).reshape(-1)[0])
        per_channel = not conv or (np.ndim(c) >= 3 and tuple(np.shape(c)[-2:]) == (1, 1))
        if np.size(c) != n_out or not per_channel:
            raise UnsupportedGraphError(
                f"{where}: {node.op_type} node {node.name!r} has a constant of shape {list(np.shape(c))}; "
                f"expected a scalar or one value per {'channel' if conv else 'neuron'} ({n_out})"
            )
        return np.asarray(c, dtype=np.float64).reshape(-1)

    def _canonicalize(self, model: ModelWrapper, lif) -> None:
        where = f"layer of LIF node {lif.name!r}"
        chain = []  # Mul/Div/Add/Flatten nodes between MatMul or Conv and the LIF, nearest the LIF first
        node = _producer(model, lif.input[0])
        while node is not None and node.op_type in _AFFINE_OPS + ("Identity", "Flatten"):
            chain.append(node)
            node = _producer(model, node.input[0])
        if node is None or node.op_type not in _WEIGHTED_OPS:
            raise UnsupportedGraphError(
                f"{where}: the current must come from MatMul(spikes, weights) or Conv(map, weights) "
                f"[Mul/Div/Add by constants] [Flatten], found {node.op_type if node is not None else 'a graph input'!r}"
            )
        op = node
        conv = op.op_type == "Conv"
        w = _constant(model, op.input[1])
        if w is None:
            raise UnsupportedGraphError(f"{where}: {op.op_type} {op.name!r} weights are not constant")
        w = w.astype(np.float64)
        n_out = w.shape[0] if conv else w.shape[1]
        out_axis = (slice(None),) + (None,) * (w.ndim - 1) if conv else (None, slice(None))
        b = np.zeros(n_out)
        if conv and len(op.input) > 2 and op.input[2]:
            conv_bias = _constant(model, op.input[2])
            if conv_bias is None:
                raise UnsupportedGraphError(f"{where}: Conv {op.name!r} bias is not constant")
            b = b + conv_bias.astype(np.float64).reshape(-1)
        for n in reversed(chain):
            if n.op_type in ("Identity", "Flatten"):
                continue
            c = _constant(model, n.input[1])
            if c is None or len(_consumers(model, n.input[0])) != 1:
                raise UnsupportedGraphError(f"{where}: {n.op_type} node {n.name!r} needs a constant second input")
            c = self._per_output(c, n_out, conv and chain.index(n) > self._flatten_at(chain), where, n)
            cw = c[out_axis] if isinstance(c, np.ndarray) else c
            if n.op_type == "Mul":
                w, b = w * cw, b * c
            elif n.op_type == "Div":
                w, b = w / cw, b / c
            else:
                b = b + c
        codes, bias = np.rint(w), np.rint(b)
        if not (np.array_equal(codes, w) and np.array_equal(bias, b)):
            raise UnsupportedGraphError(
                f"{where}: weights × scale are not integers (the scale does not fold exactly; "
                "use power-of-two scales, docs/contract.md)"
            )
        codes, bias = codes.astype(np.int64), bias.astype(np.int64)
        bits = self._declared_bits(model, op.input[1])
        need = max(2, signed_bits(int(codes.min(initial=0)), int(codes.max(initial=0))))
        bits = max(bits or need, need)

        # replace op .. chain by Quant → MatMul → [Add(bias)], or Quant → Conv(x, W, bias) → Flatten
        for n in chain:
            model.graph.node.remove(n)
        pre = op.name
        names = {k: model.make_new_valueinfo_name() for k in ("w", "s", "z", "b", "q", "mm", "bias")}
        model.set_initializer(names["w"], codes.astype(np.float32))
        model.set_initializer(names["s"], np.array(1.0, dtype=np.float32))
        model.set_initializer(names["z"], np.array(0.0, dtype=np.float32))
        model.set_initializer(names["b"], np.array(float(bits), dtype=np.float32))
        quant = helper.make_node(
            "Quant",
            [names["w"], names["s"], names["z"], names["b"]],
            [names["q"]],
            name=f"{pre}_weight_quant",
            domain="qonnx.custom_op.general",
            signed=1,
            narrow=0,
            rounding_mode="ROUND",
        )
        idx = list(model.graph.node).index(op)
        model.graph.node.remove(op)
        out = lif.input[0]
        new = [quant]
        if conv:
            inputs = [op.input[0], names["q"]]
            if np.any(bias != 0):
                model.set_initializer(names["bias"], bias.astype(np.float32))
                inputs.append(names["bias"])
            attrs = {a.name: helper.get_attribute_value(a) for a in op.attribute}
            new.append(helper.make_node("Conv", inputs, [names["mm"]], name=pre, **attrs))
            new.append(helper.make_node("Flatten", [names["mm"]], [out], name=f"{pre}_flatten", axis=1))
        elif np.any(bias != 0):
            model.set_initializer(names["bias"], bias.astype(np.float32))
            new.append(helper.make_node("MatMul", [op.input[0], names["q"]], [names["mm"]], name=pre))
            new.append(helper.make_node("Add", [names["mm"], names["bias"]], [out], name=f"{pre}_bias"))
        else:
            new.append(helper.make_node("MatMul", [op.input[0], names["q"]], [out], name=pre))
        for k, n in enumerate(new):
            model.graph.node.insert(idx + k, n)

    @staticmethod
    def _flatten_at(chain: list) -> int:
        """Index in `chain` (nearest the LIF first) of its Flatten; constants past it act on the map."""
        return next((i for i, n in enumerate(chain) if n.op_type == "Flatten"), len(chain))


class ChannelsLastMaps(Transformation):
    """Conv and MaxPool to qonnx's channels-last ops, each wrapped in Transposes; every other tensor stays channel-major.

    This is the first step of qonnx's `ConvertToChannelsLastAndClean` (which hls4ml needs
    for Conv and MaxPool), plus its folding of the weight Transpose into the Quant
    initializer. Its later steps are left out on purpose: `AbsorbChanFirstIntoMatMul`
    rewires a Transpose → Flatten → MatMul without noticing that the Flatten's output is
    also a graph output (a pool layer's spikes), which loses that output. So every map
    goes back to channel-major order (`Transpose` → `Flatten`) right after its Conv or
    MaxPool: each LIF works on, and each layer outputs, the contract's flat index
    c·H·W + y·W + x, and a dense layer after a map takes its weights unchanged. In
    io_parallel a Transpose is an index permutation of a fully partitioned array.
    """

    def apply(self, model):
        if not any(n.op_type in ("Conv", "MaxPool") for n in model.graph.node):
            return model, False
        model = model.transform(InsertChannelsLastDomainsAndTrafos())
        model = model.transform(FoldTransposeIntoQuantInit())
        # hls4ml makes a Flatten an in-place view that cannot be a top-function output: a
        # pool's spikes leave as the channel-first map [1, C, H, W] before it (same order)
        for out in model.graph.output:
            node = model.find_producer(out.name)
            if node is not None and node.op_type == "Flatten":
                shape = model.get_tensor_shape(node.input[0])
                out.name = node.input[0]
                for vi in [v for v in model.graph.value_info if v.name == out.name]:
                    model.graph.value_info.remove(vi)
                out.type.tensor_type.ClearField("shape")
                for d in shape:
                    out.type.tensor_type.shape.dim.add().dim_value = d
        return model, False


def _rename_io(model: ModelWrapper) -> ModelWrapper:
    """Name the inputs `spikes`, `reset` and the outputs `spikes_<l>` again after qonnx's readable-name pass."""
    first, second = model.graph.input[0].name, model.graph.input[1].name
    if first != SPIKES_INPUT:
        model.rename_tensor(first, SPIKES_INPUT)
    if second != RESET_INPUT:
        model.rename_tensor(second, RESET_INPUT)
    for i, out in enumerate(list(model.graph.output)):
        model.rename_tensor(out.name, f"{SPIKES_INPUT}_{i}")
    return model


def _weighted_layer(model: ModelWrapper, lif) -> PreparedLayer:
    """The Dense or Conv layer feeding a LIF node: Quant → MatMul [→ Add] or Quant → Conv → [Transpose] → Flatten."""
    node = _producer(model, lif.input[0])
    while node.op_type in ("Add", "Flatten", "Reshape", "Transpose"):
        node = _producer(model, node.input[0])
    quant = _producer(model, node.input[1])
    w = model.get_initializer(quant.input[0])
    conv = node.op_type == "Conv"
    n_out = int(np.prod(model.get_tensor_shape(lif.input[0])[1:]))
    n_in = int(np.prod(model.get_tensor_shape(node.input[0])[1:])) if conv else int(w.shape[0])
    return PreparedLayer(
        name=lif.name,
        n_in=n_in,
        n_out=n_out,
        weight_bits=int(model.get_initializer(quant.input[3])),
        params=export_lif.lif_params(lif),
        kind="conv" if conv else "dense",
    )


def _layers(model: ModelWrapper) -> list[PreparedLayer]:
    """One record per graph output (every layer's spikes): a LIF layer, or a pool (MaxPool → [Transpose] → Flatten)."""
    layers = []
    for out in model.graph.output:
        node = _producer(model, out.name)
        if node.op_type == "LIF":
            layers.append(_weighted_layer(model, node))
            continue
        while node.op_type in ("Flatten", "Reshape", "Transpose"):
            node = _producer(model, node.input[0])
        if node.op_type != "MaxPool":
            raise UnsupportedGraphError(f"graph output {out.name!r}: made by {node.op_type!r}, expected a LIF or a MaxPool")
        layers.append(
            PreparedLayer(
                name=node.name,
                n_in=int(np.prod(model.get_tensor_shape(node.input[0])[1:])),
                n_out=int(np.prod(model.get_tensor_shape(out.name)[1:])),
                weight_bits=0,
                params=None,
                kind="pool",
            )
        )
    return layers


def prepare(source: str | Path | onnx.ModelProto | ModelWrapper) -> PreparedModel:
    """The hls4ml-ready graph of an exported model (.qonnx path, run folder, ModelProto or ModelWrapper)."""
    where = str(source) if isinstance(source, (str, Path)) else "model"
    if isinstance(source, ModelWrapper):
        model = ModelWrapper(copy.deepcopy(source.model))
    elif isinstance(source, onnx.ModelProto):
        model = ModelWrapper(copy.deepcopy(source))
    else:
        path = Path(source)
        if path.is_dir():
            path = path / "model.qonnx"
        if not path.is_file():
            raise UnsupportedGraphError(f"{path}: no such model file (run `make export` first)")
        model = ModelWrapper(str(path))
    try:
        model = model.transform(CheckSupportedOps())
        model = model.transform(ExplicitMapAttributes())
        if len(model.graph.input) < 2 or not any(n.op_type == "LIF" for n in model.graph.node):
            raise UnsupportedGraphError("expected input spikes + membrane codes as graph inputs and at least one LIF node")
        if model.graph.input[0].name in {n.input[1] for n in model.graph.node if n.op_type == "LIF"}:
            raise UnsupportedGraphError("the first graph input must be the input spikes, not a membrane")
        model = cleanup_model(model, override_inpsize=1)
        model = model.transform(AddZeroGemmBias())
        model = model.transform(GemmToMatMul())
        model = model.transform(InferShapes())
        model = model.transform(MembraneToState())
        model = model.transform(CanonicalWeights())
        model = cleanup_model(model)
        model = model.transform(ChannelsLastMaps())
        model = cleanup_model(model)
        model = _rename_io(model)
        model = model.transform(InferShapes())
        model = model.transform(InferDataTypes())
    except UnsupportedGraphError as e:
        raise UnsupportedGraphError(f"{where}: {e}") from None
    return PreparedModel(model, _layers(model))
