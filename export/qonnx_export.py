"""Write a trained run (or any GoldenNetwork) as `model.qonnx`: one time step per call, LIF as a custom op.

Graph layout (docs/export.md): inputs `spikes_in` [1, N_in] then `mem_in_<i>` [1, N_i] per
LIF layer; outputs `spikes_<i>` per layer (pools included) then `mem_out_<i>` per LIF layer,
all flat (maps channel-major). Dense: `Quant|BipolarQuant(W) → MatMul → Div(scale) → [Add(bias)] → LIF`;
conv: `Reshape → Conv(·, Quant(W)) → Div(scale) → [Add(bias)] → Flatten → LIF`; pool:
`Reshape → MaxPool → Flatten`. The Div by the power-of-two weight scale is exact, so
currents reach the LIF in integer units.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import onnx
from onnx import NodeProto, TensorProto, helper, numpy_helper

from snn2fpga.export.errors import UnsupportedModelError
from snn2fpga.export.lif_op import DOMAIN, OPSET_VERSION, make_lif_node, membrane_datatype
from snn2fpga.export.meta import DENSE_FORMAT_VERSION, FORMAT_VERSION, ExportMeta
from snn2fpga.core.contract import current_bits
from snn2fpga.core.files import file_sha256, write_bytes
from snn2fpga.core.golden import GoldenNetwork

MODEL_FILE = "model.qonnx"
FLOAT32_EXACT_BITS = 24  # float32 carries every integer of up to 24 signed bits exactly
ONNX_OPSET = 20  # what Brevitas exports; MatMul, Div, Add are unchanged since opset 13


def input_name() -> str:
    """Graph input 0: the input spikes of one step."""
    return "spikes_in"


def state_input_name(layer: int) -> str:
    """Graph input 1 + l: layer l's stored membrane codes m_{t−1}."""
    return f"mem_in_{layer}"


def spikes_name(layer: int) -> str:
    """Graph output l: layer l's spikes."""
    return f"spikes_{layer}"


def state_output_name(layer: int) -> str:
    """Graph output L + l: layer l's new membrane codes m_t."""
    return f"mem_out_{layer}"


def is_power_of_two(x: float) -> bool:
    """True for 2^k, k any integer (exact in float)."""
    if not (x > 0 and math.isfinite(x)):
        return False
    mantissa, _ = math.frexp(x)
    return mantissa == 0.5


def _check_layer(layer, i: int, scale: float) -> int:
    """Bits of the layer's worst-case current; refuses what float32 or the scale fold cannot carry."""
    if not is_power_of_two(scale):
        raise UnsupportedModelError(f"layer {i}: weight scale {scale!r} is not a power of two, so the fold into integers is not exact")
    # a conv output neuron sees at most every tap of its kernel: the rows of the [C_out, C_in·K_h·K_w] matrix
    bits = current_bits(layer.weights.reshape(layer.weights.shape[0], -1), layer.bias)
    if bits > FLOAT32_EXACT_BITS:
        raise UnsupportedModelError(f"layer {i}: worst-case current needs {bits} bits; float32 carries {FLOAT32_EXACT_BITS} exactly")
    return bits


def _map_shape_init(name: str, shape) -> TensorProto:
    """The Reshape target [-1, C, H, W] of a flat map (−1: any batch)."""
    return numpy_helper.from_array(np.array([-1, shape.channels, shape.height, shape.width], dtype=np.int64), name)


def _pool_nodes(layer, i: int, x: str) -> tuple[list[NodeProto], list[TensorProto]]:
    """Reshape → MaxPool(k×k, stride k) → Flatten: the OR of binary spikes over each window (DESIGN §7)."""
    p, k = f"pool{i}", int(layer.k)
    nodes = [
        helper.make_node("Reshape", [x, f"{p}_shape"], [f"{p}_in"], name=f"{p}_reshape"),
        helper.make_node("MaxPool", [f"{p}_in"], [f"{p}_max"], name=f"{p}_maxpool", kernel_shape=[k, k], strides=[k, k]),
        helper.make_node("Flatten", [f"{p}_max"], [spikes_name(i)], name=f"{p}_flatten", axis=1),
    ]
    return nodes, [_map_shape_init(f"{p}_shape", layer.in_shape)]


def build_model(net: GoldenNetwork, meta: ExportMeta, linears: Optional[Sequence] = None):
    """The QONNX ModelWrapper of `net`; weights exported by Brevitas from `linears` (one Brevitas layer per LIF layer,
    QuantLinear or QuantConv2d) or from exact rebuilds at `meta.weight_scales`."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.general import RemoveUnusedTensors
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit
    from qonnx.util.basic import qonnx_make_model

    from snn2fpga.export.weights import exact_conv, exact_linear, weight_nodes

    lif_layers = net.lif_layers
    if linears is not None and len(linears) != len(lif_layers):
        raise UnsupportedModelError(f"{len(linears)} Brevitas layers for {len(lif_layers)} network layers with neurons")
    if len(meta.weight_scales) != len(lif_layers):
        raise UnsupportedModelError(f"{len(meta.weight_scales)} weight scales for {len(lif_layers)} network layers with neurons")
    nodes, inits, opsets, annotations = [], [], {"": ONNX_OPSET}, {}
    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info(input_name(), f32, [1, net.n_in])]
    spike_outs, state_outs = [], []
    annotations[input_name()] = DataType["BINARY"]
    x = input_name()
    j = 0  # index among the LIF layers
    for i, layer in enumerate(net.layers):
        if layer.lif is None:
            pool_nodes, pool_inits = _pool_nodes(layer, i, x)
            nodes += pool_nodes
            inits += pool_inits
            spike_outs.append(helper.make_tensor_value_info(spikes_name(i), f32, [1, layer.n_out]))
            annotations[spikes_name(i)] = DataType["BINARY"]
            x = spikes_name(i)
            continue
        scale = float(meta.weight_scales[j])
        conv = layer.kind == "conv"
        p = f"conv{i}" if conv else f"fc{i}"
        if conv:
            nodes.append(helper.make_node("Reshape", [x, f"{p}_shape"], [f"{p}_in"], name=f"{p}_reshape"))
            inits.append(_map_shape_init(f"{p}_shape", layer.in_shape))
            annotations[f"{p}_in"] = DataType["BINARY"]
            module = exact_conv(layer, scale) if linears is None else linears[j]
            wn = weight_nodes(module, f"{p}_in", f"{p}_conv", p, (1, *layer.in_shape.to_list()))
            product = f"{p}_conv"
        else:
            module = exact_linear(layer, scale) if linears is None else linears[j]
            wn = weight_nodes(module, x, f"{p}_matmul", p)
            product = f"{p}_matmul"
        bits = _check_layer(layer, i, wn.scale)
        if wn.scale != scale:
            raise UnsupportedModelError(f"layer {i}: the Brevitas layer's weight scale {wn.scale!r} differs from the metadata's {scale!r}")
        if not np.array_equal(wn.codes, layer.weights):
            raise UnsupportedModelError(f"layer {i}: the Brevitas layer's weight codes differ from the network's")
        for op in wn.opset_imports:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
        nodes += wn.nodes
        inits += wn.initializers
        inits.append(numpy_helper.from_array(np.array(wn.scale, dtype=np.float32), f"{p}_scale"))
        current = f"{p}_scaled" if conv else f"{p}_current"
        nodes.append(helper.make_node("Div", [product, f"{p}_scale"], [current], name=f"{p}_unscale"))
        if np.any(layer.bias != 0):
            bias = layer.bias.astype(np.float32)
            inits.append(numpy_helper.from_array(bias.reshape(-1, 1, 1) if conv else bias, f"{p}_bias"))
            nodes.append(helper.make_node("Add", [current, f"{p}_bias"], [f"{current}_b"], name=f"{p}_bias_add"))
            current = f"{current}_b"
        if conv:
            annotations[current] = DataType[f"INT{bits}"]
            nodes.append(helper.make_node("Flatten", [current], [f"{p}_current"], name=f"{p}_flatten", axis=1))
            current = f"{p}_current"
        annotations[current] = DataType[f"INT{bits}"]
        nodes.append(make_lif_node([current, state_input_name(i)], [spikes_name(i), state_output_name(i)], layer.lif, f"lif{i}"))
        mem_dt = membrane_datatype(layer.lif.membrane, layer.lif.acc_bits)
        inputs.append(helper.make_tensor_value_info(state_input_name(i), f32, [1, layer.n_out]))
        spike_outs.append(helper.make_tensor_value_info(spikes_name(i), f32, [1, layer.n_out]))
        state_outs.append(helper.make_tensor_value_info(state_output_name(i), f32, [1, layer.n_out]))
        annotations.update({state_input_name(i): mem_dt, spikes_name(i): DataType["BINARY"], state_output_name(i): mem_dt})
        x = spikes_name(i)
        j += 1
    opsets[DOMAIN] = OPSET_VERSION
    graph = helper.make_graph(nodes, "snn_one_step", inputs, spike_outs + state_outs, initializer=inits)
    proto = qonnx_make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
        producer_name="snn2fpga",
        doc_string="One time step of a quantized SNN; LIF = snn2fpga.export.lif_op (docs/export.md).",
    )
    helper.set_model_props(proto, meta.to_props())
    model = ModelWrapper(proto)
    model = model.transform(FoldTransposeIntoQuantInit())
    model = model.transform(RemoveUnusedTensors())
    model = model.transform(InferShapes())
    for name, dt in annotations.items():
        model.set_tensor_datatype(name, dt)
    onnx.checker.check_model(model.model)
    return model


def _sensor_size(dataset: str, n_in: int, pool: int) -> Optional[tuple[int, int, int]]:
    """The dataset's sensor size (W, H, P) if train.data knows it and it agrees with N_in."""
    try:
        from snn2fpga.core.binning import n_inputs
        from snn2fpga.train.data.datasets import DATASETS
    except ImportError:
        return None
    spec = DATASETS.get(dataset)
    if spec is None or n_inputs(spec.sensor_size, pool) != n_in:
        return None
    return tuple(int(v) for v in spec.sensor_size)


def make_meta(net: GoldenNetwork, scales: Sequence[float], steps: int, pool: int, dataset: str = "", source: str = "",
              extra: Optional[dict] = None, data: Optional[dict] = None, checkpoint_sha256: str = "") -> ExportMeta:
    """ExportMeta for `net` (sensor size looked up from the dataset name when known); `scales`: one per LIF layer."""
    lifs = [net.layers[i] for i in net.lif_layers]
    dense = all(layer.kind == "dense" for layer in net.layers)
    return ExportMeta(
        steps=int(steps),
        pool=int(pool),
        dataset=dataset,
        n_in=net.n_in,
        n_classes=net.layers[-1].n_out,
        layer_sizes=tuple(layer.n_out for layer in lifs),
        weight_quants=tuple(layer.weight_quant for layer in lifs),
        weight_scales=tuple(float(s) for s in scales),
        sensor_size=_sensor_size(dataset, net.n_in, pool) if dataset else None,
        source=source,
        format_version=DENSE_FORMAT_VERSION if dense else FORMAT_VERSION,
        extra=extra or {},
        data=data,
        checkpoint_sha256=checkpoint_sha256,
        layer_kinds=None if dense else tuple(layer.kind for layer in net.layers),
    )


def save_model(model, path: Path) -> Path:
    """Write a ModelWrapper atomically (temporary file in the same folder, then rename)."""
    write_bytes(Path(path), model.model.SerializeToString())
    return Path(path)


def export_network(net: GoldenNetwork, path: Path, steps: int, pool: int = 1, dataset: str = "") -> Path:
    """Write any GoldenNetwork (e.g. a random test network, with bias) as a .qonnx file; weight scale 1."""
    meta = make_meta(net, [1.0] * len(net.lif_layers), steps, pool, dataset)
    return save_model(build_model(net, meta), path)


def brevitas_layers(model, net: GoldenNetwork, where) -> list:
    """The trained model's Brevitas QuantLinear / QuantConv2d modules, one per LIF layer of `net`, in order.

    Any model works whose weight layers are registered in forward order (a dense-only QuantSNN: `model.fcs`);
    UnsupportedModelError names the first layer whose kind disagrees with `model.to_golden()`.
    """
    from brevitas import nn as qnn

    modules = [m for m in model.modules() if isinstance(m, (qnn.QuantLinear, qnn.QuantConv2d))]
    lifs = [net.layers[i] for i in net.lif_layers]
    if len(modules) != len(lifs):
        raise UnsupportedModelError(f"{where}: the model has {len(modules)} Brevitas weight layers for {len(lifs)} layers with neurons")
    for j, (m, layer) in enumerate(zip(modules, lifs)):
        want = qnn.QuantConv2d if layer.kind == "conv" else qnn.QuantLinear
        if not isinstance(m, want):
            raise UnsupportedModelError(f"{where}: weight layer {j} is a {type(m).__name__} but to_golden() makes a {layer.kind} layer")
    return modules


def export_model(run_dir: Path, out: Optional[Path] = None, check: bool = True) -> Path:
    """Export `runs/<name>/` (model.pt + config.json) to `runs/<name>/model.qonnx`; returns the path.

    With `check`, the written file is read back and must give the same integer network
    as `model.to_golden()`, and run spike-for-spike like it on a few random samples.
    """
    import torch

    from snn2fpga.train.trainer import CHECKPOINT, load_model

    run_dir = Path(run_dir)
    model, cfg = load_model(run_dir)
    net = model.to_golden()
    modules = brevitas_layers(model, net, run_dir)
    with torch.no_grad():
        scales = [float(m.quant_weight().scale.reshape(())) for m in modules]
    extra = {}
    metrics = run_dir / "metrics.json"
    if metrics.exists():
        try:
            acc = json.loads(metrics.read_text()).get("test_accuracy")
            if isinstance(acc, (int, float)):
                extra["test_accuracy"] = acc
        except json.JSONDecodeError:
            pass
    # the data is recorded only when the network's input is that dataset's (not for a bare test network)
    fits = _sensor_size(cfg.dataset, net.n_in, cfg.pool) is not None
    meta = make_meta(net, scales, cfg.steps, cfg.pool, cfg.dataset, source=run_dir.name, extra=extra,
                     data=cfg.data_source().to_dict() if fits else None, checkpoint_sha256=file_sha256(run_dir / CHECKPOINT))
    with torch.no_grad():
        wrapper = build_model(net, meta, modules)
    out = Path(out) if out is not None else run_dir / MODEL_FILE
    save_model(wrapper, out)
    if check:
        verify_export(out, net, steps=cfg.steps)
    return out


def verify_export(path: Path, net: GoldenNetwork, steps: int, samples: int = 8, seed: int = 0) -> None:
    """Read `path` back and run it: must equal `net` in weights, parameters and spikes (UnsupportedModelError if not)."""
    from snn2fpga.export.loader import load_network
    from snn2fpga.export.runner import run_qonnx

    loaded, _ = load_network(path)
    if loaded.to_dict() != net.to_dict():
        raise UnsupportedModelError(f"{path}: reads back as a different integer network")
    x = (np.random.default_rng(seed).random((samples, steps, net.n_in)) < 0.2).astype(np.uint8)
    got, want = run_qonnx(path, x), net.run(x)
    for i, (a, b) in enumerate(zip(got.spikes, want.spikes)):
        if not np.array_equal(a, b):
            raise UnsupportedModelError(f"{path}: layer {i} spikes differ from the golden model")
