"""Weights through Brevitas' QONNX export: a QuantLinear (QuantConv2d) → QONNX `Quant`/`BipolarQuant` → `MatMul` (`Conv`).

Brevitas exports `MatMul(x, Transpose(Quant(W)))`; the exported initializer is replaced
by the exact quantized weight (code × scale), so the Quant node is idempotent and the
integer codes can be read from the file by any tool. The Transpose is folded later by
qonnx's `FoldTransposeIntoQuantInit`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import onnx
from onnx import NodeProto, TensorProto, helper, numpy_helper

from snn2fpga.export.errors import UnsupportedModelError
from snn2fpga.core.golden import ConvLayer, QuantLayer

QUANT_OPS = ("Quant", "BipolarQuant")


@dataclass
class WeightNodes:
    """The nodes and initializers computing x @ W_realᵀ for one layer, and the layer's weight scale."""

    nodes: list[NodeProto]
    initializers: list[TensorProto]
    scale: float  # real weight = code × scale (a power of two)
    codes: np.ndarray  # int64 [N, N_in] (conv: [C_out, C_in, K_h, K_w]), the integer weight codes Brevitas quantizes to
    opset_imports: list  # opset ids the nodes need


def _int_const_scale_quant(bits: int, scale: float = 1.0) -> type:
    """Brevitas fixed-point quantizer with a constant power-of-two scale and the full range [−2^(b−1), 2^(b−1)−1]."""
    from brevitas.inject.enum import ScalingImplType
    from brevitas.quant import Int8WeightPerTensorFixedPoint

    # a fixed-point quantizer's scale is scaling_const / 2^(b−1): this const gives `scale`
    return type(
        f"IntWeightUnitScale{bits}" if scale == 1.0 else f"IntWeightConstScale{bits}",
        (Int8WeightPerTensorFixedPoint,),
        {"scaling_impl_type": ScalingImplType.CONST, "scaling_const": float(2 ** (bits - 1)) * scale, "narrow_range": False},
    )


def _quant_kwargs(weight_quant: str, scale: float) -> dict:
    """Brevitas weight-quantizer arguments reproducing codes of `weight_quant` at a power-of-two `scale`."""
    from snn2fpga.train.quant import weight_quant_kwargs

    if weight_quant in ("binary", "ternary"):
        if scale != 1.0:
            raise UnsupportedModelError(f"{weight_quant} weights have scale 1 in this project, got {scale!r}")
        return weight_quant_kwargs(weight_quant)
    bits = int(weight_quant[3:])
    return {"weight_quant": _int_const_scale_quant(bits, scale), "weight_bit_width": bits}


def _checked(module, layer, scale: float):
    """`module` with its latent weights set to codes × scale, after checking Brevitas quantizes them back to the codes."""
    import torch

    with torch.no_grad():
        module.weight.copy_(torch.from_numpy((layer.weights * scale).astype(np.float32)))
    codes = module.quant_weight().int().to(torch.int64).numpy()
    if not np.array_equal(codes, layer.weights):
        raise UnsupportedModelError(f"Brevitas {layer.weight_quant} quantizer does not reproduce the layer's weight codes")
    return module.eval()


def exact_linear(layer: QuantLayer, scale: float = 1.0):
    """A Brevitas QuantLinear (no bias) whose quantized weights are exactly `layer.weights` × `scale`."""
    from brevitas import nn as qnn

    fc = qnn.QuantLinear(layer.n_in, layer.n_out, bias=False, **_quant_kwargs(layer.weight_quant, scale))
    return _checked(fc, layer, scale)


def exact_conv(layer: ConvLayer, scale: float = 1.0):
    """A Brevitas QuantConv2d (no bias) with the layer's kernel, stride and padding and weights exactly its codes × `scale`."""
    from brevitas import nn as qnn

    c_out, c_in = layer.weights.shape[:2]
    conv = qnn.QuantConv2d(c_in, c_out, layer.kernel, stride=layer.stride, padding=layer.padding, bias=False,
                           **_quant_kwargs(layer.weight_quant, scale))
    return _checked(conv, layer, scale)


def _brevitas_export(fc, input_shape: tuple[int, ...]) -> onnx.ModelProto:
    """Brevitas QONNX export of one QuantLinear or QuantConv2d, quietly (TorchScript exporter when available: 20× faster)."""
    import torch
    from brevitas.export import export_qonnx

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return export_qonnx(fc, input_t=torch.zeros(*input_shape), dynamo=False)
        except TypeError:  # a torch without the TorchScript exporter
            return export_qonnx(fc, input_t=torch.zeros(*input_shape))


def _gemm_to_matmul(model: onnx.ModelProto) -> None:
    """Rewrite Brevitas' dynamo form `Gemm(x, W, transB=1)` as `MatMul(x, Transpose(W))`, in place."""
    for i, node in enumerate(list(model.graph.node)):
        if node.op_type != "Gemm":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("transA", 0) or not attrs.get("transB", 0) or len(node.input) > 2:
            raise UnsupportedModelError(f"Brevitas exported an unexpected Gemm {attrs}")
        t = helper.make_node("Transpose", [node.input[1]], [node.input[1] + "_T"], perm=[1, 0])
        mm = helper.make_node("MatMul", [node.input[0], node.input[1] + "_T"], list(node.output))
        model.graph.node.remove(node)
        model.graph.node.insert(i, mm)
        model.graph.node.insert(i, t)


def weight_nodes(fc, x: str, out: str, prefix: str, input_shape: Optional[tuple[int, ...]] = None) -> WeightNodes:
    """Nodes computing `out = x @ (code × scale)ᵀ` for QuantLinear `fc` (a QuantConv2d: `Conv(x, code × scale)`
    on an input of `input_shape` [1, C, H, W]), names prefixed with `prefix`."""
    import torch

    model = _brevitas_export(fc, (1, fc.in_features) if input_shape is None else tuple(input_shape))
    _gemm_to_matmul(model)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    data_inputs = [i.name for i in graph.input if i.name not in inits]
    if len(data_inputs) != 1 or len(graph.output) != 1:
        raise UnsupportedModelError(f"Brevitas export of {prefix} has inputs {data_inputs}, outputs {len(graph.output)}")
    quant = [n for n in graph.node if n.op_type in QUANT_OPS]
    if len(quant) != 1 or quant[0].input[0] not in inits:
        raise UnsupportedModelError(f"Brevitas export of {prefix}: expected one Quant/BipolarQuant on the weights")
    with torch.no_grad():
        qw = fc.quant_weight()
        exact = qw.value.detach().to(torch.float32).numpy()
        scale = float(qw.scale.reshape(()))
        codes = qw.int().to(torch.int64).numpy()
    w_name = quant[0].input[0]
    inits[w_name] = numpy_helper.from_array(exact, w_name)

    roles = ("weight", "w_scale", "w_zeropt", "w_bitwidth")
    rename = {data_inputs[0]: x, graph.output[0].name: out, quant[0].output[0]: f"{prefix}_wq"}
    rename.update({name: f"{prefix}_{role}" for name, role in zip(quant[0].input, roles)})
    rename.update({n.output[0]: f"{prefix}_wqT" for n in graph.node if n.op_type == "Transpose"})

    def new(name: str) -> str:
        if name == "":
            return name
        return rename.get(name) or prefix + "_" + name.strip("/").replace("/", "_").lower()

    nodes = []
    for n in graph.node:
        node = NodeProto()
        node.CopyFrom(n)
        node.name = f"{prefix}_{'wquant' if n.op_type in QUANT_OPS else n.op_type.lower()}"
        node.input[:] = [new(i) for i in n.input]
        node.output[:] = [new(o) for o in n.output]
        nodes.append(node)
    initializers = []
    for name, t in inits.items():
        t2 = TensorProto()
        t2.CopyFrom(t)
        t2.name = new(name)
        initializers.append(t2)
    return WeightNodes(nodes, initializers, scale, codes, list(model.opset_import))
