"""Run a model.qonnx over T time steps with qonnx's `execute_onnx`, threading the membrane state.

The file stores batch 1 (qonnx tools want fixed shapes); the runner makes a batch-B
copy once (graph inputs/outputs resized, shapes re-inferred), so B samples take T calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
import onnx

from snn2fpga.export.errors import ModelFileError
from snn2fpga.core.contract import readout
from snn2fpga.core.golden import GoldenResult


def _wrapper(model):
    """A ModelWrapper from a path, run folder, ModelProto or ModelWrapper."""
    from qonnx.core.modelwrapper import ModelWrapper

    import snn2fpga.export.lif_op  # noqa: F401  (registers the LIF op)

    if isinstance(model, ModelWrapper):
        return model
    if isinstance(model, onnx.ModelProto):
        return ModelWrapper(model)
    from snn2fpga.export.loader import resolve_path

    return ModelWrapper(str(resolve_path(model)))


def with_batch(model, batch: int):
    """A copy of `model` whose graph inputs and outputs have batch dimension `batch`, shapes re-inferred."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes

    proto = onnx.ModelProto()
    proto.CopyFrom(model.model)
    for vi in list(proto.graph.input) + list(proto.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if len(dims) != 2:
            raise ModelFileError(f"graph tensor {vi.name!r} has rank {len(dims)}; the layout has [batch, N]")
        dims[0].ClearField("dim_param")
        dims[0].dim_value = batch
    del proto.graph.value_info[:]
    return ModelWrapper(proto).transform(InferShapes())


def lif_outputs(graph, n_layers: int) -> list[bool]:
    """For each of the first `n_layers` graph outputs: True if a LIF node makes it, False for a pool's."""
    from snn2fpga.export.lif_op import OP_TYPE

    producer = {o: n for n in graph.node for o in n.output}
    return [getattr(producer.get(graph.output[i].name), "op_type", None) == OP_TYPE for i in range(n_layers)]


def run_qonnx(model: Union[str, Path, onnx.ModelProto, object], spikes: np.ndarray) -> GoldenResult:
    """Run input spikes [B, T, N_in] (or [T, N_in]) from zero state; same result type as GoldenNetwork.run.

    Graph inputs are taken by position: input 0 = spikes, inputs 1..L_lif = membrane codes of
    the LIF layers; outputs 0..L−1 = spikes of every layer (pools included), L..L+L_lif−1 = new
    codes (names may have been changed by cleanup). A pool layer's membranes are [B, T, 0].
    """
    from qonnx.core.onnx_exec import execute_onnx

    spikes = np.asarray(spikes)
    if spikes.ndim == 2:
        spikes = spikes[None]
    wrapper = _wrapper(model)
    g = wrapper.graph
    n_lif = len(g.input) - 1
    n_layers = len(g.output) - n_lif
    if n_lif < 1 or n_layers < n_lif:
        raise ModelFileError(f"graph has {len(g.input)} inputs and {len(g.output)} outputs; expected 1 + L_lif and L + L_lif")
    is_lif = lif_outputs(g, n_layers)
    if sum(is_lif) != n_lif:
        raise ModelFileError(f"{sum(is_lif)} of the first {n_layers} graph outputs come from LIF nodes; the graph has {n_lif} membrane inputs")
    n_in = g.input[0].type.tensor_type.shape.dim[-1].dim_value
    if spikes.ndim != 3 or spikes.shape[2] != n_in:
        raise ValueError(f"input spikes must be [B, T, {n_in}], got {list(spikes.shape)}")
    batch, steps, _ = spikes.shape
    batched = with_batch(wrapper, batch)
    in_names = [i.name for i in batched.graph.input]
    out_names = [o.name for o in batched.graph.output]
    sizes = [o.type.tensor_type.shape.dim[-1].dim_value for o in batched.graph.output[:n_layers]]
    state = [np.zeros((batch, i.type.tensor_type.shape.dim[-1].dim_value), dtype=np.float32) for i in batched.graph.input[1:]]
    per_s = [np.zeros((batch, steps, n), dtype=np.uint8) for n in sizes]
    per_m = [np.zeros((batch, steps, n if lif else 0), dtype=np.int64) for n, lif in zip(sizes, is_lif)]
    lif_index = list(np.cumsum(is_lif) - 1)  # layer i → its index among the LIF layers
    for t in range(steps):
        feed = {in_names[0]: spikes[:, t].astype(np.float32)}
        feed.update({name: m for name, m in zip(in_names[1:], state)})
        out = execute_onnx(batched, feed)
        state = [out[out_names[n_layers + j]].astype(np.float32) for j in range(n_lif)]
        for i in range(n_layers):
            per_s[i][:, t] = out[out_names[i]].astype(np.uint8)
            if is_lif[i]:
                per_m[i][:, t] = state[lif_index[i]].astype(np.int64)
    counts = per_s[-1].sum(axis=1, dtype=np.int64)
    return GoldenResult(per_s, per_m, counts, readout(counts))
