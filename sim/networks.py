"""Small random networks that together cover every quantizer, leak and reset (the sweep).

Five networks of five layers each. Layer i of network j has weight quantizer
`WEIGHTS[i]` and membrane quantizer `MEMBRANES[(i + j) % 5]`, so across the five every
(weight, membrane) pair occurs once; network j has leak/reset `LEAK_RESET[j]`, so every
weight and every membrane quantizer meets IF and leaky neurons with both resets; two
networks carry a bias. Thresholds are tuned layer by layer on the samples (golden
model) so that every layer fires at a useful rate; one layer per network has a `full`
membrane with an accumulator barely wider than its current, so sat_A is reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from snn2fpga.core.contract import ContractError, LIFParams, current_bits, default_delta, membrane_code_range
from snn2fpga.core.golden import GoldenNetwork, QuantLayer, random_network

WEIGHTS = ("binary", "ternary", "int2", "int4", "int8")
MEMBRANES = ("ternary", "int4", "int8", "int16", "full")
# (leak shift k or None for IF, reset, bias)
LEAK_RESET = ((None, "subtract", False), (1, "zero", True), (None, "zero", True), (3, "subtract", False), (2, "zero", False))
SIZES = (16, 11, 9, 13, 7, 6)  # N_in, then five layers (a wider layer after a narrower one)
LANES = (1, 3, 4, 2, 5)  # P per network: partial last rows, one lane, several
UNITS = (None, 2, None, 1, 3)  # Q LIF units per layer (None: one per lane): S = 2 slices, a partial one
STEPS = 8
TARGET_RATE = 0.25
BASE_ACC = {"ternary": 8, "int4": 10, "int8": 14, "int16": 18, "full": 8}


@dataclass
class SweepCase:
    """One sweep network, its T and P, and the samples it runs."""

    name: str
    network: GoldenNetwork
    steps: int
    lanes: int
    inputs: np.ndarray  # uint8 [B, T, N_in]
    units: Optional[int] = None

    def combos(self) -> list[str]:
        return [
            f"pool {l.k}×{l.k} of {l.in_shape}" if l.lif is None else
            f"{l.kind} {l.weight_quant}/{l.lif.membrane}/leak={l.lif.leak_shift}/{l.lif.reset}/A={l.lif.acc_bits}/θ={l.lif.threshold}/Δ={l.lif.delta}/bias={bool(l.bias.any())}"
            for l in self.network.layers
        ]


def sweep_inputs(n_in: int, steps: int, samples: int, seed: int) -> np.ndarray:
    """Random spikes at densities 0.1–0.7, one all-zero and one all-one step per sample."""
    rng = np.random.default_rng(seed)
    x = np.zeros((samples, steps, n_in), dtype=np.uint8)
    for b in range(samples):
        density = 0.1 + 0.6 * b / max(1, samples - 1)
        x[b] = rng.random((steps, n_in)) < density
        x[b, rng.integers(steps)] = 0
        x[b, rng.integers(steps)] = 1
    return x


def _lif(membrane: str, threshold: int, leak: Optional[int], reset: str, acc: int, odd_delta: bool) -> LIFParams:
    delta = default_delta(membrane, threshold)
    if odd_delta and membrane != "full":
        delta += 1
    while True:
        try:
            return LIFParams(threshold, leak, reset, membrane, delta, acc)
        except ContractError:
            if delta > 1:
                delta -= 1
            else:
                acc += 1


def _tune(layer: QuantLayer, x: np.ndarray, make_lif) -> QuantLayer:
    """The layer with the θ (1..) whose firing rate on inputs x is closest to TARGET_RATE."""
    hi = 2 ** (layer.lif.acc_bits - 1) - 1
    peak = int(np.abs(layer.weights).sum(axis=1).max() + np.abs(layer.bias).max())
    best, best_err = layer, 2.0
    for theta in sorted(set(np.unique(np.geomspace(1, max(2, min(hi, 3 * peak)), 40).round().astype(int)))):
        cand = QuantLayer(layer.weights, layer.weight_quant, make_lif(int(theta)), layer.bias)
        rate = float(GoldenNetwork([cand]).run(x).spikes[0].mean())
        if abs(rate - TARGET_RATE) < best_err:
            best, best_err = cand, abs(rate - TARGET_RATE)
    return best


def sweep_case(j: int, samples: int = 10, seed: int = 0) -> SweepCase:
    """Network j (0..4) of the sweep, with `samples` random inputs."""
    leak, reset, bias = LEAK_RESET[j]
    x = sweep_inputs(SIZES[0], STEPS, samples, seed=100 + j)
    layers: list[QuantLayer] = []
    h = x
    for i, wq in enumerate(WEIGHTS):
        membrane = MEMBRANES[(i + j) % 5]
        n_in, n_out = SIZES[i], SIZES[i + 1]
        base = random_network([n_in, n_out], wq, _lif(membrane, 1, leak, reset, BASE_ACC[membrane], False), seed=10 * j + i, with_bias=bias)
        w, b = base.layers[0].weights, base.layers[0].bias
        cbits = current_bits(w, b)
        # `full`: A one bit above the current (v + I saturates); others: room for the codes
        acc = cbits + 1 if membrane == "full" else max(BASE_ACC[membrane], cbits + 2)
        acc = min(acc, 22)

        def make_lif(theta, membrane=membrane, acc=acc, odd=(i + j) % 2 == 1):
            theta = min(theta, 2 ** (acc - 1) - 1)
            return _lif(membrane, theta, leak, reset, acc, odd)

        layer = _tune(QuantLayer(w, wq, make_lif(1), b), h, make_lif)
        layers.append(layer)
        h = GoldenNetwork([layer]).run(h).spikes[0]
    net = GoldenNetwork(layers)
    return SweepCase(f"sweep{j}", net, STEPS, LANES[j], x, UNITS[j])


def coverage(cases: list[SweepCase]) -> dict[str, set]:
    """Which quantizers / leaks / resets / pairs the cases contain."""
    out: dict[str, set] = {"weights": set(), "membranes": set(), "leak": set(), "reset": set(), "pairs": set(), "bias": set()}
    for c in cases:
        for l in c.network.layers:
            out["weights"].add(l.weight_quant)
            out["membranes"].add(l.lif.membrane)
            out["leak"].add("none" if l.lif.leak_shift is None else "k")
            out["reset"].add(l.lif.reset)
            out["pairs"].add((l.weight_quant, l.lif.membrane))
            out["bias"].add(bool(l.bias.any()))
    return out


def membrane_range_hit(case: SweepCase) -> list[bool]:
    """Per layer: does any stored code reach the end of its range (clamp exercised)?"""
    res = case.network.run(case.inputs)
    hits = []
    for layer, m in zip(case.network.layers, res.membranes):
        lo, hi = membrane_code_range(layer.lif.membrane, layer.lif.acc_bits)
        hits.append(bool((m == lo).any() or (m == hi).any()))
    return hits
