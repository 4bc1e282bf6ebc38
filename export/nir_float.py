"""A float NIR graph in the contract's discrete time: its layers, its simulation under a source's semantics, spike agreement.

The graph is read as a chain Input → [Flatten] → (Affine|Linear → LIF|IF)* → Output of
`FloatLayer`s by forward Euler with step dt (docs/export.md, "Importing NIR"); anything
else is refused with the node's name, type and reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from snn2fpga.export.errors import ModelFileError, UnsupportedModelError
from snn2fpga.export.nir_bridge import KEY, _chain, _scalar, _uniform

# Why a node type the hardware has no layer for is refused (the message names the node).
REFUSED = {
    "Conv1d": "1-D conv layers are not in the contract",
    "Conv2d": "the float import quantizes dense graphs only; a conv graph that already fits the contract "
              "(e.g. written by snn2fpga) is read exactly when given to a hardware command as MODEL.nir",
    "SumPool2d": "the float import quantizes dense graphs only, without pooling; an OR-pool (SumPool2d → IF) is read exactly "
                 "when the graph is given to a hardware command as MODEL.nir",
    "AvgPool2d": "average pooling is not in the contract (its pool is an OR over the window)",
    "CubaLIF": "the synaptic-current state (DESIGN §7) is not in the neuron contract yet",
    "NIRGraph": "a subgraph (e.g. a recurrent layer) is not a feed-forward layer",
    "LI": "a leaky integrator does not spike; the readout counts spikes of a LIF/IF layer",
}
SUPPORTED = "Input, Output, Flatten, Affine, Linear, LIF, IF"
@dataclass(frozen=True)
class FloatLayer:
    """One Affine/Linear → LIF/IF pair in discrete time: V ← β·V + W·x + b, fire on V > threshold, V ← 0."""

    fc: str  # the Affine/Linear node's name
    neuron: str  # the LIF/IF node's name
    weight: np.ndarray  # float64 [N, N_in], the input gain dt·R/τ (LIF) or dt·R (IF) folded in
    bias: np.ndarray  # float64 [N], gain folded in
    threshold: float  # v_threshold
    beta: float  # the source's decay 1 − dt/τ (1 for IF)
    leak_shift: Optional[int]  # the contract's k, β = 1 − 2^−k nearest the source's β in log2(τ/dt); None = IF

    @property
    def n_out(self) -> int:
        return self.weight.shape[0]

    @property
    def n_in(self) -> int:
        return self.weight.shape[1]


def graph_dt(graph, dt: Optional[float]) -> tuple[float, str]:
    """The time step: given, else the graph's snn2fpga metadata, else τ/r of its first LIF (snnTorch writes r = τ/dt), else 1."""
    import nir

    if dt is not None:
        return float(dt), "given (--dt)"
    meta = (graph.metadata or {}).get(KEY, {})
    if "dt" in meta:
        return float(_scalar(meta["dt"])), f"graph metadata {KEY}.dt"
    for name, node in graph.nodes.items():
        if isinstance(node, nir.LIF):
            tau, r = np.asarray(node.tau, np.float64).ravel(), np.asarray(node.r, np.float64).ravel()
            if tau.size and r.size and r[0] > 0 and math.isfinite(tau[0] / r[0]):
                return float(tau[0] / r[0]), f"τ/r of node {name!r} (snnTorch's export writes r = τ/dt)"
    return 1.0, "default 1 (no LIF node to infer it from)"


def float_layers(graph, dt: float, where: str) -> list[FloatLayer]:
    """The graph's layers; UnsupportedModelError names the node and the reason for anything else."""
    import nir

    for name, node in graph.nodes.items():  # refuse known-unsupported types before the shape of the graph
        reason = REFUSED.get(type(node).__name__)
        if reason is not None:
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}): {reason}")
    chain = [(n, node) for n, node in _chain(graph, where) if not isinstance(node, nir.Flatten)]
    for name, node in chain:
        if not isinstance(node, (nir.Affine, nir.Linear, nir.LIF, nir.IF)):
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}) is not supported; supported: {SUPPORTED}")
    layers = []
    for j in range(0, len(chain), 2):
        pair = chain[j : j + 2]
        if len(pair) != 2 or not isinstance(pair[0][1], (nir.Affine, nir.Linear)) or not isinstance(pair[1][1], (nir.LIF, nir.IF)):
            name, node = pair[-1] if len(pair) == 2 and isinstance(pair[0][1], (nir.Affine, nir.Linear)) else pair[0]
            raise UnsupportedModelError(f"{where}: node {name!r} ({type(node).__name__}) is out of place: "
                                        "the hardware takes pairs Affine/Linear → LIF/IF")
        layers.append(_float_layer(pair[0], pair[1], dt, where))
    if not layers:
        raise UnsupportedModelError(f"{where}: no Affine/Linear → LIF/IF layer")
    for prev, layer in zip(layers, layers[1:]):
        if layer.n_in != prev.n_out:
            raise ModelFileError(f"{where}: node {layer.fc!r} takes {layer.n_in} inputs but {prev.neuron!r} has {prev.n_out} neurons")
        if layer.leak_shift != layers[0].leak_shift:
            raise UnsupportedModelError(f"{where}: node {layer.neuron!r} has leak shift {layer.leak_shift}, {layers[0].neuron!r} "
                                        f"{layers[0].leak_shift}; a trained run has one leak for every layer")
    return layers


def _float_layer(fc_item: tuple[str, Any], neuron_item: tuple[str, Any], dt: float, where: str) -> FloatLayer:
    """One layer by forward Euler with step dt; refuses what the contract's neuron cannot do."""
    import nir

    (fc_name, fc), (name, neuron) = fc_item, neuron_item
    here = f"{where}: node {name!r} ({type(neuron).__name__})"
    w = np.asarray(fc.weight, np.float64)
    if w.ndim != 2:
        raise UnsupportedModelError(f"{where}: node {fc_name!r}: weight of shape {w.shape} is not a matrix [N, N_in]")
    b = np.asarray(fc.bias, np.float64).ravel() if isinstance(fc, nir.Affine) else np.zeros(w.shape[0])
    if b.shape != (w.shape[0],):
        raise ModelFileError(f"{where}: node {fc_name!r}: bias of shape {b.shape} for {w.shape[0]} outputs")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
        raise ModelFileError(f"{where}: node {fc_name!r}: weights or bias are not finite")
    v_reset = getattr(neuron, "v_reset", None)
    if v_reset is not None and _uniform(v_reset, "v_reset", here) != 0.0:
        raise UnsupportedModelError(f"{here}: v_reset must be 0 (the contract resets to 0 or subtracts θ)")
    threshold = _uniform(neuron.v_threshold, "v_threshold", here)
    if not threshold > 0:
        raise UnsupportedModelError(f"{here}: v_threshold = {threshold} must be positive")
    r = _uniform(neuron.r, "r", here)
    if isinstance(neuron, nir.IF):
        gain, beta, k = r * dt, 1.0, None  # V ← V + dt·R·I
    else:
        if _uniform(neuron.v_leak, "v_leak", here) != 0.0:
            raise UnsupportedModelError(f"{here}: v_leak must be 0 (the contract decays towards 0)")
        ratio = _uniform(neuron.tau, "tau", here) / dt
        if not ratio >= math.sqrt(2):
            raise UnsupportedModelError(f"{here}: tau/dt = {ratio:g} gives β = 1 − dt/τ below 0.29, less than the smallest "
                                        f"shift leak (k = 1, β = 0.5); was dt = {dt:g} the graph's time step? (--dt)")
        gain, beta = r / ratio, 1.0 - 1.0 / ratio  # V ← (1 − dt/τ)·V + (dt/τ)·R·I
        k = max(1, round(math.log2(ratio)))
    if not (gain > 0 and math.isfinite(gain)):
        raise UnsupportedModelError(f"{here}: input gain {gain:g} (r = {r:g}, dt = {dt:g}) must be positive")
    return FloatLayer(fc_name, name, w * gain, b * gain, threshold, beta, k)


SEMANTICS = ("nir", "snntorch")  # the float reference the imported network is compared with


def simulate_float(layers: list[FloatLayer], spikes: np.ndarray, semantics: str = "nir", reset: str = "zero") -> list[np.ndarray]:
    """The float network in float64 under a source's semantics; spikes per layer [B, T, N].

    nir: V ← β·V + W·x + b, s = V > v_threshold, V ← 0 where s (the graph's written semantics, Norse's LIFBox).
    snntorch: snnTorch's `Leaky` (reset_delay): the spike of step t resets at step t + 1, by
    subtracting the threshold (reset "subtract") or zeroing β·V + W·x + b (reset "zero").
    Written by hand: no library simulates a NIR graph by its definition, and each framework
    imports a graph into its own neuron."""
    if semantics not in SEMANTICS:
        raise ValueError(f"semantics {semantics!r} unknown; choose one of {', '.join(SEMANTICS)}")
    x = np.asarray(spikes, np.float64)
    out = []
    for layer in layers:
        v = np.zeros((x.shape[0], layer.n_out))
        s = np.zeros_like(v, dtype=bool)
        s_all = np.zeros((x.shape[0], x.shape[1], layer.n_out), np.uint8)
        for t in range(x.shape[1]):
            v = layer.beta * v + x[:, t] @ layer.weight.T + layer.bias
            if semantics == "snntorch":
                v = v - layer.threshold * s if reset == "subtract" else np.where(s, 0.0, v)
            s = v > layer.threshold
            if semantics == "nir":
                v = np.where(s, 0.0, v)
            s_all[:, t] = s
        out.append(s_all)
        x = s_all.astype(np.float64)
    return out


def spike_agreement(a: list[np.ndarray], b: list[np.ndarray]) -> dict:
    """Fraction of equal spike decisions (every layer, step, neuron and sample), overall and per layer."""
    per_layer = [float(np.mean(x == y)) for x, y in zip(a, b)]
    equal = sum(int(np.sum(x == y)) for x, y in zip(a, b))
    total = sum(x.size for x in a)
    return {"all": equal / total if total else 1.0, "per_layer": per_layer,
            "output": per_layer[-1] if per_layer else 1.0, "reference_spike_rate": [float(y.mean()) for y in b]}
