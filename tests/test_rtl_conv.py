"""The conv core (rtl/conv.py), the pool unit (rtl/pool.py), and their cycle model, against the golden model.

Each conv case runs one `ConvCore` on random spike maps: every spike and every membrane code
equals `ConvLayer` step by step, each step's eos leaves on the cycle the model says (valid
taps × ⌈C_out/P⌉ per input spike, counted here by an independent oracle), and random stalls
change nothing but the time. The pool unit must equal `pool_or`, emit each output once a
step, and keep to its own timing. The top chains conv → pool → conv → pool → dense.
"""

import gc
import json
import warnings

import numpy as np
import pytest
from amaranth import UnusedElaboratable
from amaranth.sim import Simulator

from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, random_arch_network, random_codes
from snn2fpga.core.maps import MapShape, conv_currents
from snn2fpga.rtl.conv import ConvCore
from snn2fpga.rtl.cycle_model import CycleParams, ConvGeometry, acc_work, predict_cycles, schedule, spike_counts
from snn2fpga.rtl.generate import generate
from snn2fpga.rtl.layer import LayerConfigError
from snn2fpga.rtl.lint import lint
from snn2fpga.rtl.manifest import Manifest, ManifestError
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.rtl.testbench import run_layer, run_top

T = 4

# (input map, C_out, kernel, stride, padding, weights, membrane, leak, reset, P, Q, bias)
CONV_CASES = [
    ((2, 6, 6), 3, (3, 3), 1, 0, "ternary", "ternary", None, "subtract", 3, None, False),  # R = 1
    ((2, 7, 8), 5, (3, 2), 2, 1, "int4", "int8", 2, "zero", 2, None, True),  # stride, padding, non-square, partial row
    ((1, 6, 5), 4, (2, 3), 1, 2, "binary", "full", 1, "subtract", 1, None, True),  # P = 1, padding 2
    ((3, 5, 5), 6, (3, 3), 2, 0, "int8", "int16", None, "zero", 4, 2, False),  # Q < P, remainder the stride skips
    ((2, 5, 6), 2, (1, 1), 1, 0, "int2", "int4", 3, "subtract", 2, 1, True),  # 1×1 kernel, Q = 1
]


def _id(case):
    shape, c_out, k, s, p, wq, mq, leak, reset, lanes, units, bias = case
    return f"{'x'.join(map(str, shape))}-{c_out}c{k[0]}x{k[1]}s{s}p{p}-{wq}-{mq}-P{lanes}-Q{units}{'-bias' if bias else ''}"


def _conv_layer(case, seed=0) -> ConvLayer:
    shape, c_out, kernel, stride, padding, wq, mq, leak, reset, _, _, bias = case
    rng = np.random.default_rng(seed)
    in_shape = MapShape(*shape)
    w = random_codes(rng, wq, (c_out, in_shape.channels, *kernel))
    b = rng.integers(-3, 4, c_out) if bias else None
    acc = 10 if mq != "int16" else 18
    peak = int(np.abs(w).reshape(c_out, -1).sum(axis=1).max())
    theta = max(1, peak // 4)
    lif = LIFParams(theta, leak, reset, mq, default_delta(mq, theta), acc)
    return ConvLayer(w, wq, lif, in_shape, stride, padding, b)


def _taps_oracle(layer: ConvLayer) -> np.ndarray:
    """Valid taps of each input address, from the golden conv: a one-hot input through an all-ones kernel."""
    ones = np.ones((1, layer.in_shape.channels, *layer.kernel), dtype=np.int64)
    eye = np.eye(layer.in_shape.size, dtype=np.int64)
    return conv_currents(eye, layer.in_shape, ones, layer.stride, layer.padding).sum(axis=1)


@pytest.mark.parametrize("case", CONV_CASES, ids=_id)
def test_conv_core_matches_golden_and_cycle_model(case):
    lanes, units = case[9], case[10]
    x = (np.random.default_rng(1).random((T, int(np.prod(case[0])))) < 0.35).astype(np.uint8)
    x[1] = 0  # a step with no input spike
    for seed in range(20):  # the first weights (from a fixed start) that fire, and not everywhere
        layer = _conv_layer(case, seed)
        golden = GoldenNetwork([layer]).run(x)
        if golden.spikes[0].any() and not golden.spikes[0].all():
            break
    assert golden.spikes[0].any() and not golden.spikes[0].all(), "the case should fire, and not everywhere"

    # the model's per-step ACC cycles from the oracle's taps (independent of rtl/cycle_model.py's count)
    groups = -(-layer.out_shape.channels // lanes)
    work = (x.astype(np.int64) @ np.maximum(1, _taps_oracle(layer) * groups))[:, None]
    params = CycleParams.from_network(GoldenNetwork([layer]), lanes, T, units)
    np.testing.assert_array_equal(acc_work(params, x, golden)[0], work)
    ends = schedule(params, spike_counts(x, golden)[0], work).emit_end[:, 0]

    run = run_layer(layer, lanes, x, units=units)
    np.testing.assert_array_equal(run.spikes, golden.spikes[0][0])  # each address once (the bench counts repeats)
    np.testing.assert_array_equal(run.membranes, golden.membranes[0][0])
    assert [e - run.accepted[0] for e in run.step_end] == ends.tolist()

    stalled = run_layer(layer, lanes, x, Stalls(0.5, seed=3), Stalls(0.5, seed=4), units=units)
    np.testing.assert_array_equal(stalled.spikes, golden.spikes[0][0])
    np.testing.assert_array_equal(stalled.membranes, golden.membranes[0][0])
    assert stalled.step_end[-1] - stalled.accepted[0] >= ends[-1]


@pytest.mark.parametrize(("shape", "k"), [((2, 7, 9), 2), ((3, 6, 6), 3), ((1, 5, 4), 4), ((2, 4, 4), 1)])
def test_pool_unit_ors_drops_repeats_and_keeps_its_timing(shape, k):
    """OR over k×k windows (remainder rows and columns dropped), each output once a step, the
    step's eos POOL_OVERHEAD cycles after its input eos plus one cycle per output."""
    layer = PoolLayer(MapShape(*shape), k)
    x = (np.random.default_rng(k).random((T, layer.n_in)) < 0.4).astype(np.uint8)
    x[2] = 0
    want = layer.spikes(x)
    assert want.any() and (k == 1 or (x.sum(axis=1) > want.sum(axis=1)).any()), "some repeats to drop"
    params = CycleParams((1,), T, (1,), ("pool",), (1,), (None,))
    counts = np.stack([x.sum(axis=1), want.sum(axis=1)], axis=1)
    ends = schedule(params, counts).emit_end[:, 0]
    run = run_layer(layer, 1, x)
    np.testing.assert_array_equal(run.spikes, want)
    assert [e - run.accepted[0] for e in run.step_end] == ends.tolist()
    stalled = run_layer(layer, 1, x, Stalls(0.6, seed=5), Stalls(0.6, seed=6))
    np.testing.assert_array_equal(stalled.spikes, want)


def test_cycle_model_counts_taps_like_the_golden_conv():
    for case in CONV_CASES:
        layer = _conv_layer(case)
        np.testing.assert_array_equal(ConvGeometry.of(layer).taps(), _taps_oracle(layer))


def _chain(seed=1, arch="4c3p1-p2-3c3s2p1-p2-fc6", shape=(2, 10, 10), classes=4):
    lif = LIFParams(2, 2, "subtract", "ternary", default_delta("ternary", 2), 8)
    return random_arch_network(MapShape(*shape), arch, classes, "ternary", lif, seed=seed, with_bias=True)


def test_cycle_model_needs_the_spikes_for_a_conv_layer():
    net = _chain()
    x = (np.random.default_rng(0).random((1, T, net.n_in)) < 0.3).astype(np.uint8)
    golden = net.run(x)
    with pytest.raises(ValueError, match="conv layer's cycles depend on which inputs spiked"):
        predict_cycles(net, spike_counts(x, golden), lanes=4)
    assert predict_cycles(net, golden, lanes=4, inputs=x).shape == (1,)


@pytest.mark.parametrize("lanes", [2, 4])
def test_top_conv_pool_chain_matches_golden_and_cycle_model(lanes):
    """conv → pool → conv (stride 2) → pool (remainder) → dense → dense: every layer's spikes
    per step through the taps, the class, and the cycles exactly; then stalls and a clear mid-sample."""
    net = _chain()
    assert [l.kind for l in net.layers] == ["conv", "pool", "conv", "pool", "dense", "dense"]
    x = (np.random.default_rng(lanes).random((T, net.n_in)) < 0.3).astype(np.uint8)
    golden = net.run(x)
    assert all(s.any() for s in golden.spikes), "every layer fires"
    model = predict_cycles(net, golden, lanes=lanes, inputs=x)[0]
    run = run_top(net, T, lanes, x)
    for seen, want in zip(run.spikes, golden.spikes):
        np.testing.assert_array_equal(seen, want[0])
    np.testing.assert_array_equal(run.counts, golden.counts[0])
    assert run.label == golden.label[0] and run.cycles == model
    # a tap-count model (R per spike, as for dense) would be wrong: the taps matter
    blind = CycleParams.from_network(net, lanes, T)
    assert schedule(blind, spike_counts(x, golden)[0], spike_counts(x, golden)[0][:, :-1] * np.array(blind.event_rows)).cycles != model

    stalled = run_top(net, T, lanes, x, Stalls(0.5, 6, seed=1), Stalls(0.5, 4, seed=2), prelude=x[:2])
    for seen, want in zip(stalled.spikes, golden.spikes):
        np.testing.assert_array_equal(seen, want[0])
    assert stalled.cycles >= model


def test_clear_takes_the_pool_bitmap_words_when_they_dominate():
    """A pool first on a 2×16×16 map: 128 outputs, 8 bitmap words; the dense layer clears in 1 + 2."""
    from snn2fpga.rtl.top import SNNTop

    net = _chain(arch="p2", shape=(2, 16, 16), classes=3)
    params = CycleParams.from_network(net, 4, T)
    assert params.rows == (8, 1) and params.clear_cycles() == 8
    top = SNNTop(net, T, 4)
    seen = {}

    async def bench(ctx):
        await ctx.tick().until(~top.clearing)
        ctx.set(top.clear, 1)
        await ctx.tick().repeat(2)
        ctx.set(top.clear, 0)
        cycles = 0
        while ctx.get(top.clearing):
            await ctx.tick()
            cycles += 1
        seen["cycles"] = cycles
        assert ctx.get(top.i_stream.ready)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen["cycles"] == params.clear_cycles()


def test_generate_a_conv_network_round_trips_and_lints(tmp_path):
    net = _chain(arch="3c3x2s2p1-p2-2c2-fc5", shape=(2, 9, 11))
    manifest = generate(net, T, 2, tmp_path, units=1)
    assert Manifest.read(tmp_path / "manifest.json") == manifest
    d = json.loads((tmp_path / "manifest.json").read_text())
    assert [l["kind"] for l in d["layers"]] == ["conv", "pool", "conv", "dense", "dense"]
    assert d["layers"][0]["map"] == {"in_shape": [2, 9, 11], "out_shape": [3, 5, 6], "kernel": [3, 2], "stride": 2, "padding": 1}
    assert d["layers"][1]["map"] == {"in_shape": [3, 5, 6], "out_shape": [3, 2, 3], "k": 2}
    assert d["layers"][1]["weight_quant"] is None and [m["name"] for m in d["layers"][1]["memories"]] == ["bitmap", "spike_buffer"]
    assert d["cycle_model"]["kinds"] == ["conv", "pool", "conv", "dense", "dense"]
    conv0 = net.layers[0]
    assert manifest.layers[0].rows == 2 * 5 * 6 and manifest.layers[0].memories[0].depth == 2 * 3 * 2 * 2  # C_in·K_h·K_w·R
    assert manifest.memory_bits.weight_codes == sum(l.weights.size * 2 for l in net.layers if l.lif is not None)
    assert manifest.memory_bits.bitmap is not None and conv0.out_shape.size == 90
    result = lint(tmp_path / "snn_top.v")
    assert result.returncode == 0, result.stderr[-4000:]

    bad = json.loads((tmp_path / "manifest.json").read_text())
    bad["cycle_model"]["convs"][0] = None
    with pytest.raises(ManifestError, match=r"manifest.json: manifest field 'cycle_model.kinds' do not fit the layers"):
        Manifest.from_dict(bad, str(tmp_path / "manifest.json"))
    bad = json.loads((tmp_path / "manifest.json").read_text())
    bad["layers"][0]["map"]["kernel"] = [3]
    with pytest.raises(ManifestError, match=r"field 'layers\[0\].map.kernel' must be \[K_h, K_w\]"):
        Manifest.from_dict(bad, "m.json")


def test_conv_core_takes_only_a_conv_layer():
    net = _chain()
    with warnings.catch_warnings():  # the half-built core is never elaborated, by design
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(LayerConfigError, match="ConvCore takes a ConvLayer, got PoolLayer") as info:
            ConvCore(net.layers[1], 2)
        del info
        gc.collect()
