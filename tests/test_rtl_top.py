"""The network top (rtl/top.py) and the cycle model (rtl/cycle_model.py).

A 2-layer random net through `SNNTop`: every layer's spikes per step (debug taps), the
counts, the label and `done` against `GoldenNetwork`; the cycles from the first input
word to `done` equal the cycle model back to back and are no fewer under stalls; a
`clear` in the middle of a sample leaves nothing behind.
"""

import numpy as np
import pytest

from snn2fpga.core.records import RecordError
from snn2fpga.rtl.cycle_model import (
    CycleParams,
    StepSchedule,
    predict_cycles,
    sample_cycles,
    schedule,
    spike_counts,
    step_cycles_closed_form,
)
from snn2fpga.rtl.generate import generate
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.rtl.testbench import run_top
from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, QuantLayer, random_network

SIZES, T = [12, 9, 4], 6


def _network(seed: int = 2) -> GoldenNetwork:
    lif = LIFParams(2, 2, "subtract", "int4", default_delta("int4", 2), 8)
    hidden = LIFParams(2, 1, "zero", "ternary", default_delta("ternary", 2), 8)
    net = random_network(SIZES, "ternary", lif, seed=seed, with_bias=True)
    net.layers[0] = QuantLayer(net.layers[0].weights, "ternary", hidden, net.layers[0].bias)
    return net


def _sample(seed: int, density: float = 0.5) -> np.ndarray:
    return (np.random.default_rng(seed).random((T, SIZES[0])) < density).astype(np.uint8)


def _assert_matches(run, golden) -> None:
    for layer, (seen, want) in enumerate(zip(run.spikes, golden.spikes)):
        np.testing.assert_array_equal(seen, want[0], err_msg=f"layer {layer} spikes per step")
    np.testing.assert_array_equal(run.counts, golden.counts[0])
    assert run.label == golden.label[0]
    assert run.words_out == golden.spikes[-1][0].sum() + T  # every spike and T eos words, once


@pytest.mark.parametrize("lanes", [1, 3, 8])
def test_top_back_to_back_matches_golden_and_cycle_model(lanes):
    net, x = _network(), _sample(lanes)
    golden = net.run(x)
    assert golden.spikes[0].any() and golden.spikes[1].any()
    run = run_top(net, T, lanes, x)
    _assert_matches(run, golden)
    assert run.cycles == predict_cycles(net, golden, lanes=lanes, inputs=x)[0]


@pytest.mark.parametrize("lanes, rate, gap, units", [(1, 0.5, 3, None), (3, 0.5, 3, None), (8, 0.5, 3, None), (3, 0.9, 8, None), (8, 0.5, 3, 3)])
def test_top_with_stalls_and_clear_mid_sample(lanes, rate, gap, units):
    net, x = _network(), _sample(lanes + 20)
    golden = net.run(x)
    stalls_in, stalls_out = Stalls(rate, gap, seed=lanes), Stalls(rate, gap, seed=lanes + 7)
    run = run_top(net, T, lanes, x, stalls_in, stalls_out, prelude=_sample(99)[:3], units=units)
    _assert_matches(run, golden)
    assert run.cycles >= predict_cycles(net, golden, lanes=lanes, inputs=x, units=units)[0]


@pytest.mark.parametrize("lanes, units", [(8, 3), (3, 1), (9, 2)])
def test_top_with_fewer_lif_units_matches_golden_and_cycle_model(lanes, units):
    """Q < P LIF units per layer: same spikes, counts, label; cycles exactly the model's, and
    more than with one unit per lane."""
    net, x = _network(), _sample(lanes + 40)
    golden = net.run(x)
    run = run_top(net, T, lanes, x, units=units)
    _assert_matches(run, golden)
    slow = CycleParams.from_network(net, lanes, T, units)
    assert run.cycles == predict_cycles(slow, golden, inputs=x)[0]
    fast = CycleParams.from_network(net, lanes, T)
    assert any(c > 1 for c in slow.row_cycles) and run.cycles > predict_cycles(fast, golden, inputs=x)[0]


def test_label_ties_go_to_the_lowest_index():
    net = _network(5)
    last = net.layers[-1]
    w = last.weights.copy()
    bias = last.bias.copy()
    w[2], bias[2] = w[1], bias[1]  # classes 1 and 2 always fire together
    w[[0, 3]], bias[[0, 3]] = -1, -4  # classes 0 and 3 never fire
    net.layers[-1] = QuantLayer(w, last.weight_quant, last.lif, bias)
    x = _sample(3, 0.7)
    golden = net.run(x)
    assert golden.counts[0, 1] == golden.counts[0, 2] == golden.counts[0].max() > 0
    run = run_top(net, T, 3, x)
    _assert_matches(run, golden)
    assert run.label == 1


# ---- the cycle model on its own -----------------------------------------------------------


def test_predict_cycles_accepts_counts_results_and_manifests(tmp_path):
    net, x = _network(), np.stack([_sample(1), _sample(2)])
    golden = net.run(x)
    counts = spike_counts(x, golden)
    assert counts.shape == (2, T, 3)
    by_result = predict_cycles(net, golden, lanes=4, inputs=x)
    by_counts = predict_cycles(net, counts, lanes=4)
    manifest = generate(net, T, 4, tmp_path)
    np.testing.assert_array_equal(by_result, by_counts)
    np.testing.assert_array_equal(by_result, predict_cycles(manifest, counts))
    assert by_result.shape == (2,)
    with pytest.raises(ValueError, match="inputs"):
        predict_cycles(net, golden, lanes=4)
    with pytest.raises(ValueError, match="steps"):
        predict_cycles(manifest, counts[:, :3])


def test_cycle_model_closed_form_when_no_layer_waits():
    params = CycleParams((8, 1), 3)  # one-row second layer: it never holds the first up here
    counts = np.array([[40, 12, 3], [35, 10, 2], [50, 20, 5]])
    sched = schedule(params, counts)
    per_step = np.diff(sched.accumulate_start[:, 0]).tolist()
    assert per_step == [step_cycles_closed_form(params.rows, c) for c in counts[:-1]]
    # the tail: layer 0's last step, then layer 1's sweep and its words out
    tail = (sched.emit_end[-1, -1] + 1) - sched.accumulate_start[-1, 0]
    assert sample_cycles(params, counts) == sched.accumulate_start[-1, 0] + tail


def test_schedule_is_a_typed_record_of_ordered_events():
    params = CycleParams((8, 3), 3)
    counts = np.array([[40, 12, 3], [35, 10, 2], [50, 20, 5]])
    s = schedule(params, counts)
    assert s.emit_end.shape == (3, 2) and s.emit_end.dtype == np.int64
    assert (s.accumulate_start <= s.accumulate_end).all() and (s.accumulate_end < s.emit_start).all()
    assert (s.emit_start <= s.emit_end).all() and (s.emit_end[:, 0] >= s.accumulate_start[:, 1]).all()
    assert s.cycles == sample_cycles(params, counts) == s.emit_end[-1, -1] + 1
    with pytest.raises(ValueError, match=r"schedule field 'emit_end' must be an int array \[T, L\] of accumulate_start's shape \(3, 2\), got ndarray \(2, 2\)"):
        StepSchedule(s.accumulate_start, s.accumulate_end, s.emit_start, s.emit_end[:2])
    with pytest.raises(ValueError, match="schedule field 'emit_start'"):
        StepSchedule(s.accumulate_start, s.accumulate_end, s.emit_start.astype(float), s.emit_end)


def test_stalls_round_trip_and_name_a_bad_field():
    s = Stalls(0.6, 12, seed=3)
    assert Stalls.from_dict(s.to_dict(), "plan.json") == s and s.to_dict() == {"rate": 0.6, "max_gap": 12, "seed": 3}
    assert s.active and not Stalls().active
    with pytest.raises(RecordError, match=r"^plan.json: phases\[0\].stall_in: stalls field 'rate' must be a number in \[0.0, 1.0\], got 1.5$"):
        Stalls.from_dict({"rate": 1.5, "max_gap": 3, "seed": 0}, "plan.json: phases[0].stall_in")
    with pytest.raises(RecordError, match="stalls field 'seed' is missing"):
        Stalls.from_dict({"rate": 0.5, "max_gap": 3}, "plan.json")
    with pytest.raises(RecordError, match="stalls field 'max_gap' must be a positive integer, got 0"):
        Stalls(0.5, 0)


def test_cycle_model_grows_with_rows_and_spikes():
    counts = np.array([[10, 4, 1]] * 4)
    fewer = np.array([[9, 4, 1]] * 4)
    assert sample_cycles(CycleParams((8, 1), 4), counts) > sample_cycles(CycleParams((2, 1), 4), counts)
    assert sample_cycles(CycleParams((8, 1), 4), counts) > sample_cycles(CycleParams((8, 1), 4), fewer)


def test_cycle_model_exact_when_a_layer_waits_for_the_next():
    """A wide second layer (R_1 = 9 > R_0 = 3) still sweeping when the first has its next
    step ready: the max() in a_1(t) is taken, and the RTL agrees to the cycle."""
    lif = LIFParams(1, None, "subtract", "int4", default_delta("int4", 1), 8)
    net = random_network([6, 3, 9], "ternary", lif, seed=4, with_bias=True)
    x = (np.random.default_rng(4).random((T, 6)) < 0.3).astype(np.uint8)
    golden = net.run(x)
    params = CycleParams.from_network(net, 1, T)
    sched = schedule(params, spike_counts(x, golden)[0])
    assert (sched.accumulate_start[:, 1] > sched.emit_start[:, 0]).any(), "the case should make layer 0 wait"
    run = run_top(net, T, 1, x)
    _assert_matches(run, golden)
    assert run.cycles == predict_cycles(params, golden, inputs=x)[0]


def test_clear_takes_the_documented_cycles():
    """After `clear` falls, `clearing` stays high max_l(R_l) + 2 cycles; then input is accepted."""
    from amaranth.sim import Simulator

    from snn2fpga.rtl.top import SNNTop

    net = _network()
    top = SNNTop(net, T, 2)  # R = 5 and 2
    params = CycleParams.from_network(net, 2, T)
    seen = {}

    async def bench(ctx):
        await ctx.tick().until(~top.clearing)  # the clearing sweep after power-up
        ctx.set(top.clear, 1)
        await ctx.tick().repeat(3)
        assert ctx.get(top.clearing) and not ctx.get(top.i_stream.ready)
        ctx.set(top.clear, 0)
        cycles = 0
        while ctx.get(top.clearing):
            await ctx.tick()
            cycles += 1
        seen["cycles"] = cycles
        assert ctx.get(top.i_stream.ready) and ctx.get(top.step) == 0 and not ctx.get(top.done)

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen["cycles"] == params.clear_cycles() == 5 + 2


def test_default_shape_one_sample_matches_golden_and_cycle_model():
    """578 → 128 → 10, ternary/ternary, A = 16, T = 10, P = 64: one sample at ~14 % input activity."""
    lif = LIFParams(4, 3, "subtract", "ternary", default_delta("ternary", 4), 16)
    net = random_network([578, 128, 10], "ternary", lif, seed=0)
    x = (np.random.default_rng(0).random((10, 578)) < 0.14).astype(np.uint8)
    golden = net.run(x)
    run = run_top(net, 10, 64, x)
    for seen, want in zip(run.spikes, golden.spikes):
        np.testing.assert_array_equal(seen, want[0])
    np.testing.assert_array_equal(run.counts, golden.counts[0])
    assert run.label == golden.label[0]
    assert run.cycles == predict_cycles(net, golden, lanes=64, inputs=x)[0]
