"""Small random conv networks that together cover every setting of a conv or pool layer (the conv sweep).

Four networks built by `core.golden.random_arch_network` on 2×8×8 … 2×12×12 inputs, then varied
layer by layer with `dataclasses.replace`: weight quantizer (binary, ternary, int2…int8), membrane
quantizer (ternary, int4/int8/int16, full with an accumulator one bit above its current, so
sat_A acts), leak or IF, subtract or zero reset, bias or none. The architectures bring stride 2,
padding, non-square kernels, pools that drop a remainder row and column, conv → conv, and
conv → pool → conv → pool → dense; the lane counts bring R = ⌈C_out/P⌉ = 1 and partial last
channel rows, and two networks time-share Q < P LIF units. Thresholds are tuned layer by layer
on the samples (golden model) so that every LIF layer fires at a useful rate.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from snn2fpga.core.contract import LIFParams, current_bits, default_delta
from snn2fpga.core.golden import GoldenNetwork, random_arch_network, random_codes
from snn2fpga.core.maps import MapShape
from snn2fpga.sim.networks import BASE_ACC, TARGET_RATE, SweepCase, _lif, sweep_inputs

STEPS = 6
# (input map, architecture, classes, P, Q, per LIF layer (weights, membrane), leak, reset, bias)
CONV_NETS = (
    ((2, 10, 10), "4c3p1-p2-3c3p1-p2-fc6", 4, 4, None,
     (("binary", "ternary"), ("int4", "int8"), ("ternary", "full"), ("int8", "int16")), None, "subtract", True),
    ((2, 11, 11), "3c3x2s2-p2-fc5", 3, 2, 1,
     (("int2", "full"), ("ternary", "int4"), ("binary", "ternary")), 1, "zero", False),
    ((2, 8, 8), "5c2p1-p3-fc4", 3, 2, None,
     (("ternary", "int16"), ("int8", "ternary"), ("int3", "int8")), 2, "subtract", False),
    ((2, 12, 12), "2c5s2p2-4c3-fc6", 4, 3, 2,
     (("int8", "int4"), ("binary", "full"), ("int2", "int8"), ("ternary", "ternary")), None, "zero", True),
)


def _tune(layer, x: np.ndarray, make_lif):
    """(layer with the θ (1..) whose firing rate on inputs x is closest to TARGET_RATE, that rate)."""
    hi = 2 ** (layer.lif.acc_bits - 1) - 1
    w = layer.weights.reshape(layer.weights.shape[0], -1)
    peak = int(np.abs(w).sum(axis=1).max() + np.abs(layer.bias).max())
    best, best_rate = layer, -1.0
    for theta in sorted(set(np.geomspace(1, max(2, min(hi, 3 * peak)), 30).round().astype(int).tolist())):
        cand = dataclasses.replace(layer, lif=make_lif(int(theta)))
        rate = float(GoldenNetwork([cand]).run(x).spikes[0].mean())
        if abs(rate - TARGET_RATE) < abs(best_rate - TARGET_RATE):
            best, best_rate = cand, rate
    return best, best_rate


def conv_case(j: int, samples: int = 8, seed: int = 0) -> SweepCase:
    """Conv network j (0..3) of the conv sweep, with `samples` random inputs."""
    shape, arch, classes, lanes, units, settings, leak, reset, bias = CONV_NETS[j]
    in_shape = MapShape(*shape)
    base_lif = LIFParams(1, leak, reset, "ternary", default_delta("ternary", 1), 8)
    net = random_arch_network(in_shape, arch, classes, "ternary", base_lif, seed=20 + j, with_bias=bias)
    rng = np.random.default_rng(30 + j)
    x = sweep_inputs(in_shape.size, STEPS, samples, seed=200 + j)
    layers, h, k = [], x, 0
    for layer in net.layers:
        if layer.lif is not None:
            wq, membrane = settings[k]
            for _ in range(10):  # new weights until the layer fires at a useful rate
                w = random_codes(rng, wq, layer.weights.shape)
                cbits = current_bits(w.reshape(w.shape[0], -1), layer.bias)
                acc = min(22, cbits + 1 if membrane == "full" else max(BASE_ACC[membrane], cbits + 2))

                def make_lif(theta, membrane=membrane, acc=acc, odd=(j + k) % 2 == 1):
                    return _lif(membrane, min(theta, 2 ** (acc - 1) - 1), leak, reset, acc, odd)

                tuned, rate = _tune(dataclasses.replace(layer, weights=w, weight_quant=wq, lif=make_lif(1)), h, make_lif)
                if 0.08 < rate < 0.5:
                    break
            layer = tuned
            k += 1
        layers.append(layer)
        h = GoldenNetwork([layer]).run(h).spikes[0] if layer.lif is not None else layer.spikes(h.reshape(-1, h.shape[-1])).reshape(*h.shape[:2], -1)
    return SweepCase(f"conv{j}", GoldenNetwork(layers), STEPS, lanes, x, units)
