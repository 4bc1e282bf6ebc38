"""The layer core (rtl/layer.py) against the golden model, spike for spike and code for code.

Every weight quantizer and every membrane quantizer appears, with leak on/off, both
resets, bias, P ∈ {1, 3, 8} (N = 7: one partial row, one row, and lanes > N), the
accumulator limits and the extreme thresholds. Each case runs twice: back to back
(cycles must equal the cycle model) and with random valid/ready stalls (same spikes,
cycles no fewer).
"""

import gc
import warnings
import zlib

import numpy as np
import pytest
from amaranth import Fragment, Shape, UnusedElaboratable

from snn2fpga.rtl.cycle_model import CycleParams, schedule
from snn2fpga.rtl.layer import LayerConfigError, LayerCore
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.rtl.testbench import run_layer
from snn2fpga.core.contract import MEMBRANE_QUANTS, WEIGHT_QUANTS, LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, QuantLayer, random_network

N_IN, N, T = 12, 7, 5
LANES = (1, 3, 8)
LEAKS = (2, None, 1)


def _lif(membrane: str, threshold: int, acc_bits: int, leak, reset: str, delta=None) -> LIFParams:
    return LIFParams(threshold, leak, reset, membrane, default_delta(membrane, threshold) if delta is None else delta, acc_bits)


def _cases():
    cases = []
    # every weight quantizer (ternary membrane), cycling P, leak, reset, bias
    for i, wq in enumerate(WEIGHT_QUANTS):
        th = 3 if wq in ("binary", "ternary", "int2") else 12
        cases.append((wq, _lif("ternary", th, 10, LEAKS[i % 3], ("subtract", "zero")[i % 2]), LANES[i % 3], i % 2 == 0))
    # every membrane quantizer (int3 weights)
    for i, mq in enumerate(MEMBRANE_QUANTS):
        bits = int(mq[3:]) if mq.startswith("int") else 0
        a = max(12, bits + 2)
        cases.append(("int3", _lif(mq, 5, a, LEAKS[(i + 1) % 3], ("zero", "subtract")[i % 2]), LANES[(i + 1) % 3], i % 3 == 0))
    return cases


def _id(case):
    wq, lif, lanes, bias = case
    return f"{wq}-{lif.membrane}-k{lif.leak_shift}-{lif.reset}-P{lanes}{'-bias' if bias else ''}"


def _inputs(seed: int, density: float = 0.4, steps: int = T) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.random((steps, N_IN)) < density).astype(np.uint8)
    x[1] = 0  # a step with no input spike
    if steps > 3:
        x[3] = 1  # and one with every input
    return x


def _check(layer: QuantLayer, lanes: int, x: np.ndarray, seed: int = 0, units: int | None = None) -> None:
    golden = GoldenNetwork([layer]).run(x)
    counts = np.stack([x.sum(axis=1), golden.spikes[0][0].sum(axis=1)], axis=1)
    slices = 1 if units is None else -(-lanes // min(units, lanes))
    params = CycleParams((-(-layer.n_out // lanes),), len(x), (1 if slices == 1 else slices + 1,))
    ends = schedule(params, counts).emit_end[:, 0]

    run = run_layer(layer, lanes, x, units=units)
    np.testing.assert_array_equal(run.spikes, golden.spikes[0][0])
    np.testing.assert_array_equal(run.membranes, golden.membranes[0][0])
    assert [e - run.accepted[0] for e in run.step_end] == ends.tolist()

    stalled = run_layer(layer, lanes, x, Stalls(0.5, seed=seed), Stalls(0.5, seed=seed + 1), units=units)
    np.testing.assert_array_equal(stalled.spikes, golden.spikes[0][0])
    np.testing.assert_array_equal(stalled.membranes, golden.membranes[0][0])
    assert stalled.step_end[-1] - stalled.accepted[0] >= ends[-1]


def _firing_layer(case) -> tuple[QuantLayer, np.ndarray, int]:
    """The case's layer and inputs, from the first seed (from a fixed start) that fires in ≥ 3 of the T steps."""
    wq, lif, _, bias = case
    for seed in range(zlib.crc32(_id(case).encode()) % 1000, 10_000):
        layer = random_network([N_IN, N], wq, lif, seed=seed, with_bias=bias).layers[0]
        x = _inputs(seed)
        if (GoldenNetwork([layer]).run(x).spikes[0][0].sum(axis=1) > 0).sum() >= 3:
            return layer, x, seed
    raise AssertionError(f"no firing seed for {_id(case)}")


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_layer_matches_golden(case):
    layer, x, seed = _firing_layer(case)
    _check(layer, case[2], x, seed)


# Q LIF units time-shared over P lanes: S = ⌈P/Q⌉ slices a row, with a partial last slice
# (P = 8, Q = 3), a single unit (Q = 1), and halves (P = 8, Q = 4)
UNIT_CASES = [
    (("ternary", _lif("ternary", 3, 10, 2, "subtract"), 8, True), 3),
    (("int3", _lif("int4", 5, 12, None, "zero"), 3, False), 1),
    (("int8", _lif("full", 12, 12, 1, "subtract"), 8, True), 4),
    (("binary", _lif("int8", 3, 12, 2, "zero"), 3, True), 2),
]


@pytest.mark.parametrize(("case", "units"), UNIT_CASES, ids=lambda c: _id(c) if isinstance(c, tuple) else f"Q{c}")
def test_layer_with_fewer_lif_units_matches_golden(case, units):
    """Fewer LIF units than lanes: the same spikes and membranes; the sweep takes S cycles a row."""
    layer, x, seed = _firing_layer(case)
    core = _built(layer, case[2], units)
    assert core.units == units and core.slices == -(-case[2] // units) > 1 and core.row_cycles == core.slices + 1
    _check(layer, case[2], x, seed, units)


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("membrane", ["int4", "full"])
def test_saturation_at_accumulator_limits(membrane, lanes):
    """A = 6: int8 weights and a ±100 bias drive v + I far past ±2^(A−1) every step."""
    rng = np.random.default_rng(lanes)
    acc = 6
    lif = _lif(membrane, 9, acc, 2, "subtract", delta=None if membrane == "full" else 4)
    w = rng.integers(-128, 128, size=(N, N_IN))
    w[0] = 127  # all-positive and all-negative rows reach both limits
    w[1] = -128
    bias = np.array([100, -100, 0, 50, -50, 100, -100])
    layer = QuantLayer(w, "int8", lif, bias)
    x = _inputs(lanes, 0.5)
    currents = x @ w.T + bias
    assert currents.max() > 2 ** (acc - 1) - 1 and currents.min() < -(2 ** (acc - 1))
    _check(layer, lanes, x, lanes)


@pytest.mark.parametrize("lanes", LANES)
@pytest.mark.parametrize("threshold", ["one", "max"])
@pytest.mark.parametrize("membrane", ["ternary", "int4", "full"])
def test_threshold_extremes(membrane, threshold, lanes):
    acc = 8
    th = 1 if threshold == "one" else 2 ** (acc - 1) - 1
    delta = None
    if membrane == "int4" and threshold == "max":
        delta = 2 ** (acc - 1) // 8  # the largest Δ the contract allows for int4 at A = 8
    lif = _lif(membrane, th, acc, None if lanes == 3 else 1, "zero" if lanes == 8 else "subtract", delta)
    wq = "ternary" if threshold == "one" else "int8"
    layer = random_network([N_IN, N], wq, lif, seed=lanes, with_bias=True).layers[0]
    x = _inputs(lanes + 10, 0.6)
    golden = GoldenNetwork([layer]).run(x)
    assert golden.spikes[0].any(), "the case should fire at least once"
    _check(layer, lanes, x, lanes)


def _built(layer: QuantLayer, lanes: int, units: int | None = None) -> LayerCore:
    core = LayerCore(layer, lanes, units)
    Fragment.get(core, None)  # elaborated, as in a design (and no unused-elaboratable warning)
    return core


def test_memories_at_code_width():
    lif = _lif("ternary", 3, 16, 2, "subtract")
    core = _built(random_network([N_IN, N], "ternary", lif).layers[0], 3)
    assert core.membrane_bits == 2 and core.weight_bits == 2 and core.rows == 3
    assert Shape.cast(core.membranes.shape).width == 6  # 3 lanes × 2 bits per row
    assert Shape.cast(core.weights.shape).width == 6 and core.weights.depth == N_IN * 3
    binary = _built(random_network([N_IN, N], "binary", lif).layers[0], 4)
    assert Shape.cast(binary.weights.shape).width == 4  # 1 bit per binary weight
    int8 = _built(random_network([N_IN, N], "int8", _lif("int8", 3, 16, 2, "zero")).layers[0], 1)
    assert int8.membrane_bits == 8 and int8.weight_bits == 8
    full = _built(random_network([N_IN, N], "int2", _lif("full", 3, 13, 2, "zero")).layers[0], 7)
    assert full.membrane_bits == 13 and full.rows == 1


def test_bad_lanes_rejected():
    layer = random_network([N_IN, N], "ternary", _lif("ternary", 3, 8, 2, "zero")).layers[0]
    with warnings.catch_warnings():  # the half-built core is never elaborated, by design
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(LayerConfigError, match="lanes") as info:
            LayerCore(layer, 0)
        del info
        gc.collect()
