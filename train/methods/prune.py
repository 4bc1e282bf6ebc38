"""Structured pruning of hidden neurons: learned gates during training, the gated-off neurons removed after it.

Each hidden neuron j has a gate g_j (init 0.25); the forward multiplies its spikes by [g_j > 0]
(straight-through: clamp(g, 0, 1) backward) and the loss adds λ·Σ max(g, 0), so gates the
task does not defend fall to 0 and their neuron goes silent. `prune` then builds the smaller
network: the neuron's weight row and the next layer's column dropped. Downstream currents
are unchanged (a silent neuron added nothing), so the pruned network spikes exactly as the
gated one on the kept neurons, and the RTL gets fewer rows and smaller weight memories.
Only unit-scale (binary/ternary) weights: their scale is a constant, so codes and θ survive.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from snn2fpga.train.config import TrainConfig
from snn2fpga.train.model import QuantSNN


def gate_penalty(model: QuantSNN) -> torch.Tensor:
    """Σ max(g, 0) over every hidden gate."""
    return sum(torch.relu(g).sum() for g in model.gates)


def kept_neurons(model: QuantSNN) -> list[torch.Tensor]:
    """Indices of the open gates of each hidden layer (the strongest gate if all are closed)."""
    keep = []
    for g in model.gates:
        idx = torch.nonzero(g.detach() > 0).flatten()
        keep.append(idx if len(idx) else g.detach().argmax().reshape(1))
    return keep


@torch.no_grad()
def prune(model: QuantSNN, cfg: TrainConfig) -> tuple[QuantSNN, TrainConfig]:
    """The network without its gated-off hidden neurons, and the config that rebuilds it (hidden sizes shrunk)."""
    keep = kept_neurons(model)
    small_cfg = replace(cfg, hidden=[len(k) for k in keep])
    small = QuantSNN(model.fcs[0].in_features, model.fcs[-1].out_features, small_cfg)
    for i, fc in enumerate(model.fcs):
        w = fc.weight.detach()
        if i < len(keep):
            w = w[keep[i]]
        if i > 0:
            w = w[:, keep[i - 1]]
        small.fcs[i].weight.copy_(w)
        small.lifs[i].load_state_dict(model.lifs[i].state_dict())
        if model.biases is not None:
            small.biases[i].copy_(model.biases[i][keep[i]] if i < len(keep) else model.biases[i])
    for lif, src in zip(small.lifs, model.lifs):
        lif.surrogate, lif.slope, lif.alpha = src.surrogate, src.slope, src.alpha
    return small.eval(), small_cfg
