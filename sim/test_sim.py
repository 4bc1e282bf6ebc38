"""`pytest sim/`: the generated RTL under Verilator (cocotb 2.x) against the golden model.

Each test below starts one Verilator simulation through `sim.runner.run_cocotb` (the
cocotb tests themselves are in `sim/snn_cocotb.py`); designs are generated and built
once and cached under `build/sim/`. A failure prints every mismatch: sample, step,
layer, neuron, expected vs seen (docs/sim.md).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from snn2fpga.rtl.stalls import Stalls
from snn2fpga.sim.batch import check, run_harness
from snn2fpga.sim.conv_networks import CONV_NETS, conv_case
from snn2fpga.sim.design import prepare_design
from snn2fpga.sim.networks import MEMBRANES, WEIGHTS, coverage, sweep_case
from snn2fpga.sim.plan import ClearCase, Phase
from snn2fpga.sim.reference import Expectations
from snn2fpga.sim.runner import run_cocotb
from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, QuantLayer, random_network

# random valid gaps on i_stream (longer than the 8 cycles a word takes at P = 16, so they
# show) and random low stretches of o_stream.ready
STALLS = {
    "input-gaps": (Stalls(0.6, 12, seed=1), None),
    "output-stalls": (None, Stalls(0.7, 6, seed=2)),
    "both": (Stalls(0.5, 10, seed=3), Stalls(0.5, 6, seed=4)),
}


def _expect(network: GoldenNetwork, design, x, tags=None, truth=None) -> Expectations:
    return Expectations.from_golden(network, x, design.manifest.cycle_model, tags, truth)


def _phase_report(result, phase: str) -> dict:
    return result.reports["samples"][phase]


# ---- the default trained model ---------------------------------------------------------------


def _run_model(model, design, samples, name: str):
    expect = _expect(model.network, design, samples.x, samples.tags, samples.truth)
    result = run_cocotb(design, expect, name, [Phase("back-to-back", list(range(len(expect))), timing=True)])
    assert result.passed, result.describe()
    rep = _phase_report(result, "back-to-back")
    assert rep["samples"] == len(expect) and rep["mismatches"] == 0
    assert rep["cycles"]["equal_to_model"] == len(expect), "back to back, the cycle model is exact"
    return expect, rep


def test_default_model_dataset_samples(default, default_design, dataset_part):
    """≥ 20 test samples of the model's dataset: every spike of every layer and step, counts, class, cycles."""
    expect, _ = _run_model(default, default_design, dataset_part, "default-dataset")
    assert len(expect) >= 20
    assert expect.spikes[0].any() and expect.spikes[-1].any(), "the samples make both layers fire"


def test_default_model_nmnist_recordings(default, default_design, nmnist_part):
    """≥ 20 real N-MNIST recordings binned with the model's T and pool."""
    expect, _ = _run_model(default, default_design, nmnist_part, "default-nmnist")
    assert len(expect) >= 20


def test_dvs_motions_model_samples(dvs, dvs_design, dvs_part):
    """≥ 10 `dvs-motions` test samples through the model trained on them (2,048 inputs)."""
    assert dvs.meta.dataset == "dvs-motions"
    expect, _ = _run_model(dvs, dvs_design, dvs_part, "dvs-motions")
    assert len(expect) >= 10
    assert expect.spikes[0].any() and expect.spikes[-1].any(), "the samples make both layers fire"


def test_default_model_random_stalls(default, default_design, dataset_part):
    """Random valid gaps on the input and random ready stalls on the output: the same spikes,
    counts and class; cycles no fewer than the model's (and more, so the stalls did bite)."""
    expect = _expect(default.network, default_design, dataset_part.x[:4], dataset_part.tags[:4], dataset_part.truth[:4])
    phases = [Phase(name, [0, 1, 2, 3], s_in, s_out, "lower_bound") for name, (s_in, s_out) in STALLS.items()]
    result = run_cocotb(default_design, expect, "default-stalls", phases)
    assert result.passed, result.describe()
    for name in STALLS:
        cycles = _phase_report(result, name)["cycles"]
        assert cycles["total"] > int(expect.cycles.sum()), f"{name}: the stalls never delayed the design"


def test_default_model_clear_mid_sample(default, default_design, dataset_part):
    """`clear` (or `rst`) in the middle of a sample, then a fresh sample: identical to the
    golden model from zero state, to the cycle; step/counts/done back to 0 at once; the
    clearing sweep takes the manifest's clear_cycles."""
    expect = _expect(default.network, default_design, dataset_part.x[:8], dataset_part.tags[:8], dataset_part.truth[:8])
    clears = [
        ClearCase(0, 1, 0.2, trigger="sweep"),  # layer 0 sweeping
        ClearCase(2, 3, 0.55, use_rst=True, trigger="tap0"),  # hidden spikes in flight
        ClearCase(4, 5, 0.85, trigger="tap1"),  # output spikes in flight
        ClearCase(6, 7, 0.4),  # layer 0 accumulating
    ]
    result = run_cocotb(default_design, expect, "default-clear", clears=clears)
    assert result.passed, result.describe()
    cases = result.reports["clear_mid_sample"]["cases"]
    assert all(c["mismatches"] == 0 for c in cases)
    assert any(c["interrupted_at"]["step"] > 0 for c in cases), "a clear hit after output steps had left"
    assert cases[1]["interrupted_at"]["taps_valid"][0] == 1, "the rst hit hidden spikes in flight"


# ---- every quantizer / leak / reset on small random networks -------------------------------------


def test_sweep_covers_every_quantizer_leak_and_reset():
    cases = [sweep_case(j) for j in range(5)]
    got = coverage(cases)
    assert got["weights"] == set(WEIGHTS) and got["membranes"] == set(MEMBRANES)
    assert got["pairs"] == {(w, m) for w in WEIGHTS for m in MEMBRANES}
    assert got["leak"] == {"none", "k"} and got["reset"] == {"subtract", "zero"} and got["bias"] == {True, False}
    for c in cases:  # every layer of every network fires, and not always
        rates = [float(s.mean()) for s in c.network.run(c.inputs).spikes]
        assert all(0.05 < r < 0.6 for r in rates), (c.name, rates)


@pytest.mark.parametrize("j", range(5))
def test_sweep(j):
    """One 5-layer network of the sweep (sim/networks.py): 10 samples back to back (cycles and
    every eos word's edge exact), 3 with stalls, a clear in the middle of a sample. Three of
    the five share Q < P LIF units over each layer's lanes (sim/networks.py UNITS)."""
    _run_sweep_case(sweep_case(j), j, stalled=[1, 5, 9], clear=ClearCase(8, 2, 0.5, use_rst=j % 2 == 1, trigger=f"tap{j % 4}"))


def _run_sweep_case(case, j: int, stalled: list[int], clear: ClearCase):
    """A sweep network back to back (timing exact), `stalled` samples with stalls on both ports, and `clear`."""
    design = prepare_design(case.network, case.steps, case.lanes, units=case.units)
    expect = _expect(case.network, design, case.inputs, [f"{case.name} #{i}" for i in range(len(case.inputs))])
    phases = [
        Phase("back-to-back", list(range(len(expect))), timing=True),
        Phase("stalls", stalled, Stalls(0.6, 6, seed=j), Stalls(0.6, 6, seed=10 + j), "lower_bound"),
    ]
    result = run_cocotb(design, expect, case.name, phases, [clear])
    assert result.passed, result.describe() + "\nlayers: " + "; ".join(case.combos())
    return result, expect


# ---- conv and pool layers: every setting on small random conv networks ----------------------------


def test_conv_sweep_covers_every_setting():
    cases = [conv_case(j) for j in range(len(CONV_NETS))]
    lif = [l for c in cases for l in c.network.layers if l.lif is not None]
    convs = [l for c in cases for l in c.network.layers if l.kind == "conv"]
    pools = [l for c in cases for l in c.network.layers if l.kind == "pool"]
    assert {l.weight_quant for l in convs} >= {"binary", "ternary", "int2", "int8"}
    assert {l.lif.membrane for l in convs} >= {"ternary", "int4", "int16", "full"}
    assert {l.lif.leak_shift is None for l in lif} == {True, False} and {l.lif.reset for l in lif} == {"subtract", "zero"}
    assert {bool(l.bias.any()) for l in convs} == {True, False}
    assert any(l.stride == 2 for l in convs) and any(l.padding > 0 for l in convs)
    assert any(l.kernel[0] != l.kernel[1] for l in convs)
    assert any(l.in_shape.height % l.k or l.in_shape.width % l.k for l in pools), "a pool drops a remainder"
    kinds = [[l.kind for l in c.network.layers] for c in cases]
    assert ["conv", "pool", "conv", "pool", "dense", "dense"] in kinds and any(k[:2] == ["conv", "conv"] for k in kinds)
    for c in cases:  # every LIF layer fires, and not always
        rates = [float(s.mean()) for s, l in zip(c.network.run(c.inputs).spikes, c.network.layers) if l.lif is not None]
        assert all(0.05 < r < 0.6 for r in rates), (c.name, rates)


@pytest.mark.parametrize("j", range(len(CONV_NETS)))
def test_conv_sweep(j):
    """One conv network (sim/conv_networks.py): 8 samples back to back (cycles and every eos word's
    edge exact: the conv cycle model counts valid taps), 3 with stalls on both ports, and a clear
    in the middle of a sample; every layer's spikes (pools included) at every step."""
    result, expect = _run_sweep_case(conv_case(j), j, stalled=[1, 4, 7],
                                     clear=ClearCase(6, 2, 0.5, use_rst=j % 2 == 1, trigger=f"tap{j % 3}"))
    assert _phase_report(result, "back-to-back")["cycles"]["equal_to_model"] == len(expect)


def test_scoreboard_reports_a_wrong_model():
    """The checker itself: expectations from a network whose layer 2 has θ + 1, run through
    the design of the original: the mismatches must start at layer 2 and name sample,
    step and neuron."""
    case = sweep_case(0)
    design = prepare_design(case.network, case.steps, case.lanes)
    wrong = copy.deepcopy(case.network)
    l2 = wrong.layers[2]
    lif = LIFParams(**{**l2.lif.to_dict(), "threshold": l2.lif.threshold + 1})
    wrong.layers[2] = QuantLayer(l2.weights, l2.weight_quant, lif, l2.bias)
    golden, changed = case.network.run(case.inputs), wrong.run(case.inputs)
    assert not np.array_equal(golden.spikes[2], changed.spikes[2])
    expect = _expect(wrong, design, case.inputs, [f"{case.name} #{i} (θ2 + 1)" for i in range(len(case.inputs))])
    result = run_cocotb(design, expect, "scoreboard-negative", [Phase("back-to-back", list(range(len(expect))))])
    assert not result.passed
    found = result.reports["samples"]["back-to-back"]["mismatch_list"]
    spikes = [m for m in found if m["what"] == "spike"]
    assert spikes and min(m["layer"] for m in spikes) == 2
    first = spikes[0]
    assert first["step"] is not None and first["neuron"] is not None and first["expected"] != first["seen"]
    assert "sample" in first["text"] and "layer 2" in first["text"]


def test_input_held_off_during_clear():
    """The port protocol around `clear`/`rst`: no handshake on i_stream while either is high."""
    case = sweep_case(0)
    design = prepare_design(case.network, case.steps, case.lanes)
    expect = _expect(case.network, design, case.inputs[:1])
    result = run_cocotb(design, expect, "protocol-clear", protocol=True)
    assert result.passed, result.describe() + f"\n{result.reports.get('input_held_off_during_clear')}"


# ---- the batch harness and waveforms ---------------------------------------------------------------


def test_batch_harness_matches_golden():
    """The C++ batch harness of `make sim-batch`, on a sweep network, back to back and stalled."""
    case = sweep_case(1, samples=30, seed=7)
    design = prepare_design(case.network, case.steps, case.lanes)
    expect = _expect(case.network, design, case.inputs)
    records, _, _ = run_harness(design, expect)
    report = check(expect, records, stalled=False)
    assert not report.failed, report.describe()
    assert report.cycle_stats()["equal_to_model"] == len(expect)
    records, _, _ = run_harness(design, expect, stall_in=0.5, stall_out=0.5, max_gap=4, seed=3)
    report = check(expect, records, stalled=True)
    assert not report.failed, report.describe()
    assert report.cycle_stats()["mean_excess"] > 0
    # `sim-batch --jobs 3`: three harness processes, 10 samples each, records back in sample order
    shared, _, _ = run_harness(design, expect, jobs=3)
    report = check(expect, shared, stalled=False)
    assert not report.failed, report.describe()
    assert [r.cycles for r in shared] == expect.cycles.tolist()


def test_waves_on_request():
    """WAVES=1 (here: waves=True) builds with VCD tracing and leaves dump.vcd under build/sim/runs/."""
    lif = LIFParams(2, 1, "zero", "ternary", default_delta("ternary", 2), 8)
    net = random_network([6, 5, 3], "ternary", lif, seed=4)
    design = prepare_design(net, 4, 2)
    x = (np.random.default_rng(0).random((2, 4, 6)) < 0.5).astype(np.uint8)
    result = run_cocotb(design, _expect(net, design, x), "waves", [Phase("back-to-back", [0, 1])], waves=True)
    assert result.passed, result.describe()
    assert result.waves is not None and result.waves.stat().st_size > 0
