"""Many samples through the RTL in one Verilator process: `make sim-batch MODEL=runs/<name> N=1000`.

    python -m sim.batch runs/<name> [--n 1000] [--lanes 16] [--units Q] [--stall-in R] [--stall-out R]

Samples: the model's dataset test samples (all 360 for saccade-digits), topped up to N
with real N-MNIST recordings from ../shared/data/nmnist-train1k, binned with the model's
T and pool. The design is driven by `sim/harness.cpp` (a Verilator C++ model, no Python in
the loop; same protocol and cycle definition as the cocotb testbench), and every sample
is checked by `sim.reference.compare`: each layer's spikes per step, counts, class and
the cycle count (= the cycle model back to back, ≥ it under stalls). Prints `N passed, M
failed` and writes `build/<name>/sim-batch.json`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from sim.design import REPO, Design, build_harness, prepare_design
from sim.reference import Expectations, Report, SampleRecord, compare

MAGIC_IN, MAGIC_OUT = 0x494E4E53, 0x4F4E4E53


def write_input(path: Path, expect: Expectations, max_cycles: np.ndarray) -> None:
    """The harness input: header, then per sample its cycle limit and per step k + addresses."""
    words = [MAGIC_IN, len(expect), expect.steps]
    for i in range(len(expect)):
        words.append(int(max_cycles[i]))
        for addrs in expect.input_words(i):
            words.append(len(addrs))
            words.extend(addrs)
    Path(path).write_bytes(np.asarray(words, dtype="<u4").tobytes())


def read_output(path: Path, n_taps: int, n_classes: int) -> list[SampleRecord]:
    """Parse the harness output into one `SampleRecord` per sample."""
    data = np.frombuffer(Path(path).read_bytes(), dtype="<u4")
    if data.size < 2 or data[0] != MAGIC_OUT:
        raise ValueError(f"{path}: not a harness output file")
    pos, records = 2, []
    for _ in range(int(data[1])):
        status, cycles, label = (int(v) for v in data[pos : pos + 3])
        pos += 3
        counts = [int(v) for v in data[pos : pos + n_classes]]
        pos += n_classes
        layers, eos_edges = [], []
        for _ in range(n_taps):
            k = int(data[pos])
            words = data[pos + 1 : pos + 1 + 2 * k].reshape(k, 2)
            pos += 1 + 2 * k
            steps, current, edges = [], [], []
            for w, edge in words:
                if w >> 31:
                    steps.append(current)
                    edges.append(int(np.int32(edge)))
                    current = []
                else:
                    current.append(int(w))
            if current:
                steps.append(current)
            layers.append(steps)
            eos_edges.append(edges)
        ok = status == 0
        records.append(SampleRecord(layers, counts, label, cycles if ok else None, eos_edges, "" if ok else "timeout"))
    return records


def run_harness(
    design: Design, expect: Expectations, stall_in: float = 0.0, stall_out: float = 0.0, max_gap: int = 3, seed: int = 1
) -> tuple[list[SampleRecord], float, str]:
    """Simulate every sample of `expect`; (records, seconds the simulation took, harness stderr)."""
    exe = build_harness(design)
    stalled = stall_in > 0 or stall_out > 0
    limit = expect.cycles * (20 if stalled else 2) + 2000
    with tempfile.TemporaryDirectory(prefix="sim-batch-") as tmp:
        inp, out = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        write_input(inp, expect, limit)
        cmd = [str(exe), str(inp), str(out), "--stall-in", str(stall_in), "--stall-out", str(stall_out), "--max-gap", str(max_gap), "--seed", str(seed)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"harness failed ({proc.returncode}): {proc.stderr.strip()}")
        records = read_output(out, len(design.manifest["taps"]), int(design.manifest["n_classes"]))
    return records, wall, proc.stderr.strip()


def check(expect: Expectations, records: list[SampleRecord], stalled: bool) -> Report:
    report = Report()
    for i, seen in enumerate(records):
        found = compare(expect, i, seen, cycles="lower_bound" if stalled else "exact", check_timing=not stalled)
        report.add(i, found, seen.cycles, int(expect.cycles[i]))
    return report


def batch_samples(meta, n: int, network_n_in: int):
    """The model's dataset test samples topped up to n with N-MNIST recordings."""
    from sim.samples import dataset_samples, nmnist_available, nmnist_samples

    base = dataset_samples(meta)
    if len(base) >= n:
        return base.__class__(base.x[:n], base.truth[:n], base.tags[:n]), ""
    missing = n - len(base)
    if not nmnist_available():
        return base, f"N-MNIST recordings not found; only the {len(base)} dataset samples"
    extra = nmnist_samples(meta.steps, meta.pool, missing, spread=False)
    if extra.x.shape[2] != network_n_in:
        return base, f"N-MNIST binned to {extra.x.shape[2]} inputs, the model takes {network_n_in}; only the dataset samples"
    return base + extra, ""


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.batch", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="run folder runs/<name>/ (model.qonnx, or model.pt to export) or a .qonnx file")
    ap.add_argument("--n", type=int, default=1000, help="samples (dataset test samples, then N-MNIST recordings)")
    ap.add_argument("--lanes", type=int, default=16, help="P, lanes per layer")
    ap.add_argument("--units", type=int, default=None, help="Q, LIF units per layer (default: one per lane)")
    ap.add_argument("--stall-in", type=float, default=0.0, help="probability of a random valid gap before each input word")
    ap.add_argument("--stall-out", type=float, default=0.0, help="probability o_stream.ready is low in a cycle")
    ap.add_argument("--max-gap", type=int, default=3, help="longest input gap in cycles (a word takes R_0 = ⌈N_0/P⌉ cycles anyway)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="JSON report (default build/<name>/sim-batch.json)")
    args = ap.parse_args(argv)

    from rtl.cycle_model import CycleParams
    from sim.samples import resolve_model

    t_all = time.perf_counter()
    net, meta, qonnx = resolve_model(args.model)
    name = args.model.stem if args.model.suffix == ".qonnx" else args.model.resolve().name
    samples, note = batch_samples(meta, args.n, net.n_in)
    if note:
        print(f"note: {note}", file=sys.stderr)
    t0 = time.perf_counter()
    design = prepare_design(net, meta.steps, args.lanes, units=args.units)
    expect = Expectations.from_golden(net, samples.x, CycleParams.from_manifest(design.manifest), samples.tags, samples.truth)
    prep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_harness(design)
    build_s = time.perf_counter() - t0
    stalled = args.stall_in > 0 or args.stall_out > 0
    records, sim_s, harness_log = run_harness(design, expect, args.stall_in, args.stall_out, args.max_gap, args.seed)
    report = check(expect, records, stalled)
    out = args.out or REPO / "build" / name / "sim-batch.json"
    stats = report.cycle_stats()
    accuracy = float((expect.labels == expect.truth).mean()) if len(expect) else 0.0
    extra = {
        "model": str(qonnx),
        "lanes": args.lanes,
        "units": args.units,
        "steps": meta.steps,
        "sources": _count_sources(samples.tags),
        "stall_in": args.stall_in,
        "stall_out": args.stall_out,
        "max_gap": args.max_gap,
        "samples_per_s": round(len(expect) / sim_s, 1) if sim_s > 0 else None,
        "simulated_cycles_per_s": round(stats.get("total", 0) / sim_s) if sim_s > 0 else None,
        "sim_s": round(sim_s, 3),
        "build_s": round(build_s, 1),
        "prepare_s": round(prep_s, 1),
        "wall_s": round(time.perf_counter() - t_all, 1),
        "cycle_model_agreement": {
            "exact": stats.get("equal_to_model", 0),
            "of": stats.get("n", 0),
            "max_abs_diff": stats.get("max_abs_diff"),
            "check": "lower_bound" if stalled else "exact, and every eos word on the model's edge",
        },
        "rtl_accuracy_vs_dataset_labels": round(accuracy, 4),
        "rtl_accuracy_per_source": _accuracy_per_source(samples.tags, expect.labels, expect.truth),
        "harness": harness_log,
        "build_dir": str(design.build_dir("harness", False)),
    }
    report.write(out, **extra)
    print(report.describe())
    print(f"{len(expect)} samples in {sim_s:.2f} s of simulation ({extra['samples_per_s']} samples/s); cycles mean {stats.get('mean', 0):.0f} "
          f"(min {stats.get('min')}, max {stats.get('max')}), cycle model exact on {stats.get('equal_to_model')}/{stats.get('n')}; report {out}")
    return 0 if not report.failed else 1


def _accuracy_per_source(tags: list[str], labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    src = np.array([t.split(" ")[0] for t in tags])
    return {k: round(float((labels[src == k] == truth[src == k]).mean()), 4) for k in dict.fromkeys(src.tolist())}


def _count_sources(tags: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tags:
        key = t.split(" ")[0]
        out[key] = out.get(key, 0) + 1
    return out


if __name__ == "__main__":
    sys.exit(main())
