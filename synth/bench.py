"""The hardware benchmark: latency, throughput and synaptic operations over a test set, the
resources of each design point, a sweep over lanes P and weight widths, a Pareto plot.

Latency comes from the cycle model (rtl/cycle_model.py), which the RTL testbenches hold
the design to cycle for cycle; `validate()` re-checks it here on a few real test samples
in amaranth.sim. Cycles only depend on spike counts, so the golden model's spike counts
over the whole test set give every sample's cycles at every P without simulating.

Definitions (docs/synth.md, "What is measured"):

  latency (µs)         cycles / Fmax (MHz); cycles from the first input word accepted to `done`
  samples/s            Fmax / (mean cycles + 1 + clear cycles): back to back, the host pulses
                       `clear` for one cycle after `done`, then waits out the clearing sweep
  SOP per sample       Σ_l Σ_t s_l(t)·N_l: every input spike of layer l touches its N_l synapses
  SOP per cycle        SOP / cycles, against the P-lane bound: a layer's P lanes do at most P
                       synaptic operations a cycle, and one layer accumulates at a time
  LUT × latency        LUT · mean latency (µs), the figure of merit the issue compares with
                       Spiker+ (7,612 logic cells × 780 µs)
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from snn2fpga.rtl.cycle_model import CycleParams, predict_cycles, spike_counts, synaptic_ops
from snn2fpga.synth.errors import DoesNotFitError, MemoryMappingError, ToolError
from snn2fpga.rtl.point import DEFAULT_LANES, DEFAULT_UNITS, DesignPoint, layer_lanes
from snn2fpga.synth.flow import synthesize
from snn2fpga.synth.metrics import AIM_FACTOR, PUBLISHED, pareto_front, point_metrics, spiker_comparison
from snn2fpga.export import test_split
from snn2fpga.synth.model import ModelInfo, load_model
from snn2fpga.synth.points import BenchPoint
from snn2fpga.synth.report import fmt
from snn2fpga.core.contract import MAX_ACC_BITS, LIFParams
from snn2fpga.core.golden import GoldenNetwork, QuantLayer
from snn2fpga.core.files import atomic_write, write_json

BENCH_FORMAT = "snn2fpga-bench/1"
SWEEP_LANES = (1, 2, 4, 8, 16, 32, 64)
WEIGHT_VARIANTS = ("ternary", "int4", "int8")
VARIANT_LANES = (16, 32, 64)
PER_LANE_LANES = (16, 32, 64)  # also built with one LIF unit per lane (Q = P), for comparison


# ---- weight-width variants -------------------------------------------------------------------
def own_quant(network: GoldenNetwork) -> str:
    """The model's weight quantizer as the bench names it: its first LIF layer's."""
    return network.layers[network.lif_layers[0]].weight_quant


def weight_variant(network: GoldenNetwork, quant: str) -> GoldenNetwork:
    """The trained network re-expressed with `quant` weights (its own quantizer → itself).

    intB (from a ternary model): the trained codes times s = 2^(B−2) (±4 for int4, ±64 for
    int8: the largest power of two that is a valid code); θ, Δ and the bias times s; A
    widened by log2 s bits (capped at the contract's maximum). Every integer of the
    contract scales by s, so the network spikes as the ternary one except where the leak's
    floor rounds at the finer grain; a power of two keeps Δ·m a shift, so a variant does
    not pick up multipliers the model itself does not have. The widths (weight memory,
    current accumulators, LIF datapath) are those of an intB model of this network.
    """
    own = own_quant(network)
    if quant == own and all(getattr(layer, "weight_quant", quant) == quant for layer in network.layers):
        return network
    if any(layer.kind != "dense" for layer in network.layers):
        raise ValueError(f"weight variant {quant!r}: variants are made from dense networks only (this one has conv or pool layers)")
    if not quant.startswith("int") or not quant[3:].isdigit() or not 3 <= int(quant[3:]) <= 8:
        raise ValueError(f"weight variant {quant!r}: use the model's own quantizer ({own}) or int3 … int8")
    shift = int(quant[3:]) - 2
    scale = 1 << shift
    layers = []
    for layer in network.layers:
        if layer.weight_quant != "ternary":
            raise ValueError(f"weight variants are made from a ternary model, not {layer.weight_quant}")
        p = layer.lif
        lif = LIFParams(threshold=p.threshold * scale, leak_shift=p.leak_shift, reset=p.reset, membrane=p.membrane,
                        delta=p.delta * (scale if p.membrane != "full" else 1),
                        acc_bits=min(MAX_ACC_BITS, p.acc_bits + shift))
        layers.append(QuantLayer(layer.weights * scale, quant, lif, layer.bias * scale))
    return GoldenNetwork(layers)


# ---- measured spike statistics ----------------------------------------------------------------
@dataclass
class TestSet:
    x: np.ndarray  # uint8 [B, T, N_in]
    y: np.ndarray  # int64 [B]
    dataset: str


def load_test_set(info: ModelInfo) -> TestSet:
    """The model's own test split (`export.test_split`: the data its training run recorded)."""
    ds = test_split(info.resolved)
    return TestSet(ds.test_x, ds.test_y, ds.name)


@dataclass(frozen=True)
class GoldenRun:
    """The golden model over the test set: what the cycle model and the SOP figures are computed from."""

    result: object  # core GoldenResult
    accuracy: float
    sops: np.ndarray  # [B] synaptic operations per sample (rtl.synaptic_ops, summed over layers)


def golden_run(network: GoldenNetwork, test: TestSet) -> GoldenRun:
    """Run the golden model over the test set once; its spikes give cycles (conv needs which inputs spiked) and SOPs."""
    result = network.run(test.x)
    return GoldenRun(result, float((result.label == test.y).mean()), synaptic_ops(network, test.x, result).sum(axis=1))


def validate(network: GoldenNetwork, steps: int, lanes: int, test: TestSet, indices: Sequence[int],
             units: Optional[int] = None) -> dict:
    """Simulate the test samples `indices` in amaranth.sim: cycles, counts and label against the
    cycle model and the golden model."""
    from snn2fpga.rtl.testbench import run_top

    out = {"lanes": lanes, "units": units, "samples": [], "simulator": "amaranth.sim (rtl.testbench.run_top)"}
    t0 = time.perf_counter()
    for i in indices:
        x = test.x[i]
        golden = network.run(x)
        predicted = int(predict_cycles(CycleParams.from_network(network, lanes, steps, units), golden, inputs=x)[0])
        run = run_top(network, steps, lanes, x, units=units)
        out["samples"].append({
            "index": i, "predicted_cycles": predicted, "simulated_cycles": int(run.cycles),
            "label": int(run.label), "golden_label": int(golden.label[0]),
            "counts_match": bool(np.array_equal(run.counts, golden.counts[0])),
        })
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["all_match"] = all(s["predicted_cycles"] == s["simulated_cycles"] and s["label"] == s["golden_label"]
                           and s["counts_match"] for s in out["samples"])
    return out


# ---- writing -----------------------------------------------------------------------------------
def plot_pareto(points: list[BenchPoint], path: Path, title: str) -> None:
    """Latency (mean, µs) against LUT, one marker per weight width, P written beside each point,
    the Pareto front joined, the Spiker+/20 LUT·µs line and the published designs for scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    markers = {"ternary": "o", "int4": "s", "int8": "^"}
    usable = [p for p in points if p.lut and p.metrics.latency_us]
    series = lambda p: (p.weights, p.per_lane)  # noqa: E731
    for key in dict.fromkeys(series(p) for p in usable):
        variant, per_lane = key
        pts = [p for p in usable if series(p) == key]
        ax.scatter([p.lut for p in pts], [p.metrics.latency_us.mean for p in pts], marker=markers.get(variant, "x"),
                   facecolors="none" if per_lane else None, edgecolors="k" if per_lane else None,
                   label=f"{variant} weights, " + ("one LIF unit per lane" if per_lane else f"Q = {pts[0].point.units} LIF unit(s) per layer"),
                   zorder=3)
        if key != series(usable[0]):
            continue  # the other series sit beside the model's point of the same P: one label each
        for p in pts:
            ax.annotate(f"P={p.point.lanes}", (p.lut, p.metrics.latency_us.mean), textcoords="offset points",
                        xytext=(-8, -12), fontsize=7)
    coords = [(p.lut, p.metrics.latency_us.mean) for p in usable]
    front = sorted((coords[i] for i in pareto_front(coords)), key=lambda c: c[0])
    if front:
        ax.plot([c[0] for c in front], [c[1] for c in front], "k--", lw=0.8, label="Pareto front", zorder=2)
    ref = PUBLISHED["Spiker+"]["logic_cells"] * PUBLISHED["Spiker+"]["latency_us"]
    xs = np.logspace(2, 5, 50)
    ax.plot(xs, ref / AIM_FACTOR / xs, ":", color="tab:red", lw=1, label=f"LUT·µs = Spiker+/{AIM_FACTOR}")
    ax.plot(xs, ref / xs, ":", color="tab:gray", lw=1, label="LUT·µs = Spiker+")
    for name, pub in PUBLISHED.items():
        ax.scatter([pub["logic_cells"]], [pub["latency_us"]], marker="*", s=90, color="tab:gray", zorder=3)
        ax.annotate(f"{name} (published, {pub['network']})", (pub["logic_cells"], pub["latency_us"]),
                    textcoords="offset points", xytext=(4, -10), fontsize=7, color="tab:gray")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(100, 1e5)
    ax.set_xlabel("LUT (Yosys count)")
    ax.set_ylabel("latency per sample, mean (µs)")
    ax.set_title(title, fontsize=8, wrap=True)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=130, format="png"))
    finally:
        plt.close(fig)


# ---- the sweep ---------------------------------------------------------------------------------
def _plan(own: str, lanes: Sequence[int], variants: Sequence[str], variant_lanes: Sequence[int], default_lanes: int,
          units: Optional[int], per_lane_lanes: Sequence[int]):
    """(weights, P, Q) points: the model itself at every P with Q units (None: one per lane),
    at `per_lane_lanes` with one unit per lane too, the other widths at `variant_lanes`."""
    plan = [(own, p, units) for p in lanes]
    if default_lanes not in lanes:
        plan.append((own, default_lanes, units))
    if units is not None:
        plan += [(own, p, None) for p in per_lane_lanes if min(units, p) < p]
    for v in variants:
        if v != own:
            plan += [(v, p, units) for p in variant_lanes]
    return plan


def run_bench(model, *, target: str = "ecp5", lanes: Sequence[int] = SWEEP_LANES, default_lanes: int = DEFAULT_LANES,
              units: Optional[int] = DEFAULT_UNITS, per_lane_lanes: Sequence[int] = PER_LANE_LANES,
              variants: Sequence[str] = WEIGHT_VARIANTS, variant_lanes: Sequence[int] = VARIANT_LANES,
              pnr: bool = True, freq_mhz: Optional[float] = None, device: Optional[str] = None,
              validate_samples: int = 2, build: Path = Path("build"), force: bool = False, log=print,
              jobs: int = 1) -> dict:
    """The whole benchmark of one model; writes build/<name>/bench.json, bench.md, pareto.png."""
    info = model if isinstance(model, ModelInfo) else load_model(model)
    own = own_quant(info.network)
    dense = all(layer.kind == "dense" for layer in info.network.layers)
    # the model's own weights first; int variants are made from a dense ternary model only
    variants = [own] + ([v for v in variants if v != own] if own == "ternary" and dense else [])
    root = Path(build) / info.name
    test = load_test_set(info)
    t0 = time.perf_counter()
    nets, stats = {}, {}
    for v in variants:
        nets[v] = weight_variant(info.network, v)
        stats[v] = golden_run(nets[v], test)
    def point(v: str, p: int, q: Optional[int]) -> BenchPoint:
        out = root / "bench" / v / (f"p{p}" if q is None else f"p{p}-q{q}") / target
        log(f"[bench] {v} weights, P={p}, Q={q or p}: synthesizing for {target} → {out}")
        try:
            rep = synthesize(nets[v], info.steps, p, target, out, device=device, freq_mhz=freq_mhz, pnr=pnr,
                             model=info.describe() | {"weight_variant": v}, reuse=not force, units=q)
            synthesis = dict(status="ok", device=rep["device"], lut=rep["lut"], ff=rep["ff"], bram=rep["bram"],
                             dsp=rep["dsp"], lut_pnr=rep.get("lut_pnr"), fmax_mhz=rep.get("fmax_mhz"),
                             timing_met=rep.get("timing_met"), runtime_s=rep.get("runtime_s"))
        except DoesNotFitError as exc:
            synthesis = dict(status="does_not_fit", over=tuple(exc.over), utilization=exc.utilization)
            log(f"[bench]   {v} P={p} Q={q or p} does not fit: {', '.join(exc.over)}")
        except (MemoryMappingError, ToolError) as exc:
            synthesis = dict(status="failed", error=str(exc).splitlines()[0])
            log(f"[bench]   {v} P={p} Q={q or p} failed: {exc}")
        params = CycleParams.from_network(nets[v], p, info.steps, q)
        cycles = predict_cycles(params, stats[v].result, inputs=test.x)
        lanes_per_layer = [layer_lanes(layer, p) for layer in nets[v].layers if layer.lif is not None]
        metrics = point_metrics(cycles, stats[v].sops, synthesis.get("fmax_mhz"), lanes_per_layer, params.clear_cycles(),
                                synthesis.get("lut"))
        bench_point = BenchPoint(v, DesignPoint(p, min(q or p, p)), q is None, str(out / "report.json"),
                                 metrics=metrics, **synthesis)
        if metrics.latency_us:
            log(f"[bench]   {v} P={p} Q={q or p}: LUT {bench_point.lut}, EBR {bench_point.bram}, DSP {bench_point.dsp}, "
                f"Fmax {bench_point.fmax_mhz} MHz, {metrics.cycles.mean:.0f} cycles = {metrics.latency_us.mean:.2f} µs mean")
        return bench_point

    # the tools are single-threaded: `jobs` points at a time (each its own Yosys / nextpnr process)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        points = list(pool.map(lambda plan: point(*plan), _plan(own, lanes, variants, variant_lanes, default_lanes,
                                                                 units, per_lane_lanes)))

    default = next((q for q in points if q.weights == own and q.point.lanes == default_lanes
                    and q.point.units == min(units or default_lanes, default_lanes)), None)
    ranked = [q for q in points if q.metrics.lut_x_latency]
    best = min(ranked, key=lambda q: q.metrics.lut_x_latency) if ranked else None
    validation = None
    if validate_samples > 0:
        log(f"[bench] validating the cycle model on {validate_samples} test samples in amaranth.sim "
            f"(P={default_lanes}, Q={units or default_lanes})")
        # the first samples and the slowest one (the most input spikes: the longest run)
        slowest = int(np.argmax(predict_cycles(CycleParams.from_network(info.network, default_lanes, info.steps, units),
                                               stats[own].result, inputs=test.x)))
        picks = sorted(set(range(min(validate_samples - 1, len(test.x)))) | {slowest})
        validation = validate(info.network, info.steps, default_lanes, test, picks, units)
    result = {
        "format": BENCH_FORMAT,
        "name": info.name,
        "model": info.describe(),
        "test_set": {"dataset": test.dataset, "samples": int(len(test.x)),
                     "accuracy": {v: round(s.accuracy, 4) for v, s in stats.items()},
                     "mean_spikes_per_step": {v: [round(float(c), 3) for c in spike_counts(test.x, s.result).mean(axis=(0, 1))]
                                              for v, s in stats.items()}},
        "target": target,
        "pnr": pnr,
        "default_lanes": default_lanes,
        "default_units": units,
        "default": default.to_dict() if default else None,
        "best_lut_x_latency": {"weights": best.weights, "lanes": best.point.lanes, "units": best.point.units,
                               "lut_x_latency": best.metrics.lut_x_latency} if best else None,
        "vs_spiker": spiker_comparison(default.metrics.lut_x_latency) if default and default.metrics.lut_x_latency else None,
        "published": PUBLISHED,
        "validation": validation,
        "points": [q.to_dict() for q in points],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    write_json(root / "bench.json", result)
    title = (f"{info.name}: {'→'.join(map(str, info.sizes))}, T={info.steps}, {test.dataset} test set "
             f"({len(test.x)} samples)\n{target} {(points[0].device or '') if points else ''}, Fmax from nextpnr")
    plot_pareto(points, root / "pareto.png", title)
    atomic_write(root / "bench.md", lambda tmp: tmp.write_text(bench_markdown(result)))
    return result


def bench_markdown(r: dict, where: str = "bench.json") -> str:
    """bench.md from a bench.json object (its points checked, errors naming `where`)."""
    m = r["model"]
    lines = [f"# Benchmark: {m['path']} ({'→'.join(map(str, m['sizes']))}, T = {m['steps']}, {r['target']})", ""]
    ts = r["test_set"]
    lines += [f"Test set: {ts['dataset']}, {ts['samples']} samples; golden accuracy "
              + ", ".join(f"{k} {v:.3f}" for k, v in ts["accuracy"].items())
              + "; mean spikes per step (input, layers): "
              + "; ".join(f"{k} {v}" for k, v in ts["mean_spikes_per_step"].items()) + ".", ""]
    lines += ["| weights | P | Q | LUT | FF | EBR | DSP | Fmax MHz | cycles mean | p99 | latency µs mean | p99 | samples/s "
              "| SOP/cycle | bound P | eff. | LUT·µs |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, raw in enumerate(r["points"]):
        q = BenchPoint.from_dict(raw, f"{where}: points[{i}]")
        s, lat = q.metrics, q.metrics.latency_us
        status = "" if q.status == "ok" else f" ({q.status})"
        lines.append(
            f"| {q.weights}{status} | {q.point.lanes} | {q.point.units} | {fmt(q.lut)} | {fmt(q.ff)} | {fmt(q.bram)} "
            f"| {fmt(q.dsp)} | {fmt(q.fmax_mhz, 1)} | {s.cycles.mean:,.0f} | {s.cycles.p99:,} "
            f"| {fmt(lat.mean if lat else None, 2)} | {fmt(lat.p99 if lat else None, 2)} | {fmt(_int(s.samples_per_s))} "
            f"| {s.sop_per_cycle:.2f} | {s.lane_bound} | {s.lane_efficiency:.1%} | {fmt(_int(s.lut_x_latency))} |")
    lines.append("")
    vs = r.get("vs_spiker")
    if vs:
        d = BenchPoint.from_dict(r["default"], f"{where}: default")
        lines += [f"Default point ({d.weights}, P = {r['default_lanes']}, Q = {d.point.units}): LUT × latency = {vs['measured_lut_x_latency']:,.0f} "
                  f"LUT·µs; Spiker+ (published: 7,612 logic cells × 780 µs) = {vs['spiker_lut_x_latency']:,.0f}, "
                  f"i.e. {vs['times_below_spiker']}× below it; aim (÷{AIM_FACTOR}) = {vs['aim_lut_x_latency']:,.0f}: "
                  f"{'met' if vs['meets_aim'] else 'NOT met'} ({vs['margin_vs_aim']}× the aim). "
                  f"SOP/cycle {d.metrics.sop_per_cycle:.2f} of a {d.metrics.lane_bound}-lane bound ({d.metrics.lane_efficiency:.1%}); at the "
                  f"bound a sample would take {d.metrics.cycles_at_bound:,.0f} cycles instead of {d.metrics.cycles.mean:,.0f}.", ""]
    val = r.get("validation")
    if val:
        lines += [f"Cycle model check ({val['simulator']}, P = {val['lanes']}, Q = {val.get('units') or val['lanes']}, {len(val['samples'])} test samples, "
                  f"{val['seconds']} s): " + ("all equal" if val["all_match"] else "MISMATCH") + " — "
                  + ", ".join(f"#{s['index']}: {s['simulated_cycles']} simulated / {s['predicted_cycles']} predicted"
                              for s in val["samples"]), ""]
    lines += ["Published figures (other networks / datasets / devices, as quoted in issue 8): "
              + "; ".join(f"{k}: {v['network']}, {v['logic_cells']:,} logic cells, {v['bram']} BRAM, {v['latency_us']:,.0f} µs"
                          for k, v in r["published"].items()), ""]
    return "\n".join(lines)


def _int(x):
    return None if x is None else int(round(x))
