"""Operations and memory of an exported model: qonnx's inference cost for the MatMuls + the LIF layers.

qonnx's `inference_cost` knows MatMul/Gemm/Conv and lists other ops as unsupported, so
the LIF part (neuron updates and stored membrane bits) is counted here from the loaded
network. MACs are dense, per time step and sample; the event-driven RTL only touches the
weight rows of inputs that spiked, so its work is MACs × input spike rate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

from snn2fpga.core.contract import membrane_code_bits, weight_code_bits


def inference_cost(path: Union[str, Path]) -> dict:
    """Per-step and per-sample cost of a model.qonnx (or run folder): MACs, weight and state memory."""
    from qonnx.util.inference_cost import inference_cost as qonnx_cost

    import snn2fpga.export.lif_op  # noqa: F401  (registers the LIF op for qonnx's shape/datatype inference)
    from snn2fpga.export.loader import load_network, resolve_path

    path = resolve_path(path)
    net, meta = load_network(path)
    q = qonnx_cost(str(path), discount_sparsity=False)["total_cost"]
    unsupported = q.pop("unsupported", "")
    layers = []
    for i, layer in enumerate(net.layers):
        p = layer.lif
        if p is None:  # OR-pool: no weights, no state; one k×k window OR per output
            layers.append({"layer": i, "kind": layer.kind, "n_in": layer.n_in, "neurons": layer.n_out, "macs": 0,
                           "nonzero_weights": 0, "weight_bits": 0, "state_bits": 0, "neuron_updates": 0})
            continue
        # dense MACs, as qonnx counts them: a conv output neuron takes C_in·K_h·K_w inputs (padding included)
        fan_in = layer.n_in if layer.kind == "dense" else int(np.prod(layer.weights.shape[1:]))
        layers.append(
            {
                "layer": i,
                "kind": layer.kind,
                "n_in": layer.n_in,
                "neurons": layer.n_out,
                "weight_quant": layer.weight_quant,
                "macs": fan_in * layer.n_out,
                "nonzero_weights": int((layer.weights != 0).sum()),
                "weight_bits": int(layer.weights.size) * weight_code_bits(layer.weight_quant),
                "membrane": p.membrane,
                "state_bits": layer.n_out * membrane_code_bits(p.membrane, p.acc_bits),
                "neuron_updates": layer.n_out,  # leak, integrate, fire, reset, quantize: once per neuron per step
            }
        )
    per_step = {k: sum(layer[k] for layer in layers) for k in ("macs", "weight_bits", "state_bits", "neuron_updates")}
    return {
        "steps": meta.steps,
        "layers": layers,
        "per_step": per_step,
        "per_sample": {"macs": per_step["macs"] * meta.steps, "neuron_updates": per_step["neuron_updates"] * meta.steps},
        "qonnx": {"total_cost": q, "unsupported_ops": unsupported},
    }
