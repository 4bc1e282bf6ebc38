"""The N-MNIST-shaped conv net under Verilator: 2×34×34 → 8c5-p2-16c5-p2-fc10, ternary weights and
membranes, T = 10, random weights with θ tuned per layer on the recordings (sim/conv_networks.py).

    python -m snn2fpga.sim.conv_reference [--lanes 8 16] [--units 1|all] [--n 20]

For each P: generation time, lint, the harness build, every layer's spikes and the cycles of n
real `nmnist-train1k` recordings against the golden and cycle models, memory bits per layer,
and synaptic operations per cycle against the lanes. A stand-in until a trained conv model is
exported; writes build/conv-reference/figures.json.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, random_arch_network
from snn2fpga.core.maps import MapShape
from snn2fpga.core.paths import build_dir
from snn2fpga.rtl.cycle_model import acc_work, synaptic_ops
from snn2fpga.rtl.lint import lint
from snn2fpga.rtl.point import layer_lanes, units_arg
from snn2fpga.sim.batch import check, run_harness
from snn2fpga.sim.conv_networks import _tune
from snn2fpga.sim.design import build_harness, prepare_design
from snn2fpga.sim.reference import Expectations
from snn2fpga.sim.samples import nmnist_samples

ARCH, SHAPE, CLASSES, STEPS = "8c5-p2-16c5-p2", MapShape(2, 34, 34), 10, 10


def reference_network(x: np.ndarray) -> GoldenNetwork:
    """Random ternary weights; each LIF layer's θ tuned on the inputs x (ternary membranes, leak 3)."""
    def lif(theta: int) -> LIFParams:
        return LIFParams(theta, 3, "subtract", "ternary", default_delta("ternary", theta), 16)

    net = random_arch_network(SHAPE, ARCH, CLASSES, "ternary", lif(4), seed=0)
    layers, h = [], x
    for layer in net.layers:
        if layer.lif is not None:
            layer, _ = _tune(layer, h, lif)
        layers.append(layer)
        h = GoldenNetwork([layer]).run(h).spikes[0] if layer.lif is not None else layer.spikes(h.reshape(-1, h.shape[-1])).reshape(*h.shape[:2], -1)
    return GoldenNetwork(layers)


def measure(net: GoldenNetwork, samples, lanes: int, units) -> dict:
    x = samples.x
    t0 = time.perf_counter()
    design = prepare_design(net, STEPS, lanes, units=units)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lint_rc = lint(design.verilog).returncode
    lint_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_harness(design)
    build_s = time.perf_counter() - t0
    params = design.manifest.cycle_model
    expect = Expectations.from_golden(net, x, params, samples.tags, samples.truth)
    records, sim_s, _ = run_harness(design, expect)
    report = check(expect, records, stalled=False)
    result = net.run(x)
    sops, work = synaptic_ops(net, x, result), acc_work(params, x, result)
    p_l = [layer_lanes(layer, lanes) for layer in net.layers]
    return {
        "lanes": lanes, "units": units, "generate_s": round(gen_s, 2), "lint": "clean" if lint_rc == 0 else f"rc {lint_rc}",
        "lint_s": round(lint_s, 1), "harness_build_s": round(build_s, 1), "harness_sim_s": round(sim_s, 1),
        "samples": len(expect), "failed": len(report.failed), "mismatches": len(report.mismatches),
        "cycles": report.cycle_stats(),
        "memory_bits_per_layer": [{"layer": f"{m.kind} {m.n}", **{mem.name: mem.bits for mem in m.memories}}
                                  for m in design.manifest.layers],
        "memory_bits": design.manifest.memory_bits.to_dict(),
        "sops_per_sample": round(float(sops.sum(axis=1).mean())),
        "sops_per_cycle": round(float(sops.sum() / expect.cycles.sum()), 2),
        "lanes_per_layer": p_l,
        "lane_use_during_acc": [round(float(sops[:, l].sum() / max(1, work[:, :, l].sum() * p)), 3)
                                for l, p in enumerate(p_l)],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lanes", type=int, nargs="+", default=[8, 16])
    ap.add_argument("--units", type=units_arg, default=1)
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args(argv)
    samples = nmnist_samples(STEPS, 1, args.n)
    net = reference_network(samples.x)
    rates = [round(float(s.sum(axis=2).mean()), 1) for s in net.run(samples.x).spikes]
    out = {"arch": f"{SHAPE} → {ARCH}-fc{CLASSES}", "steps": STEPS, "input_spikes_per_step": round(float(samples.x.sum(axis=2).mean()), 1),
           "spikes_per_step": rates, "thresholds": [None if l.lif is None else l.lif.threshold for l in net.layers],
           "points": [measure(net, samples, p, args.units) for p in args.lanes]}
    path = build_dir("conv-reference") / "figures.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
