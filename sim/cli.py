"""The `sim-batch` command: many samples through the RTL in one Verilator C++ harness.

Samples: the model's own held-out split (`export.test_split`, optionally from another
`--data-dir`), or event files given with `--files` in the model's dataset format; binned
with the model's T and pool. Every sample is checked spike for spike, step for step and
cycle for cycle (sim/batch.py). Prints `N passed, M failed`, writes build/<name>/sim-batch.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


from snn2fpga.core.cli import CheckFailed, Command, fraction, natural_int, positive_int
from snn2fpga.core.paths import build_dir
from snn2fpga.export.cli import add_model_argument
from snn2fpga.rtl.point import add_point_arguments, point_of

REPORT_FILE = "sim-batch.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    add_point_arguments(p)
    p.add_argument("--n", type=positive_int, default=None, help="samples to run (default: all); more than there are is an error")
    p.add_argument("--data-dir", default=None, help="the model's dataset folder, if it moved since training")
    p.add_argument("--files", type=Path, nargs="+", default=None,
                   help="event files in the model's dataset format, instead of its test split")
    p.add_argument("--stall-in", type=fraction, default=0.0, help="probability of a random valid gap before each input word")
    p.add_argument("--stall-out", type=fraction, default=0.0, help="probability o_stream.ready is low in a cycle")
    p.add_argument("--max-gap", type=natural_int, default=3, help="longest input gap in cycles")
    p.add_argument("--seed", type=int, default=1, help="stall seed (harness process j of --jobs uses seed + j)")
    p.add_argument("--jobs", "-j", type=positive_int, default=1, help="harness processes, each simulating a contiguous share of the samples")
    p.add_argument("--out", type=Path, default=None, help=f"JSON report (default build/<name>/{REPORT_FILE})")


def run(args: argparse.Namespace) -> int:
    from snn2fpga.export import resolve_model
    from snn2fpga.sim.batch import check, run_harness
    from snn2fpga.sim.design import build_harness, prepare_design
    from snn2fpga.sim.reference import Expectations
    from snn2fpga.sim.samples import dataset_samples, file_samples

    t_all = time.perf_counter()
    model = resolve_model(args.model)
    point = point_of(args)
    samples = file_samples(model, args.files) if args.files else dataset_samples(model, data_dir=args.data_dir)
    if args.n is not None:
        if args.n > len(samples):
            raise ValueError(f"--n {args.n}: only {len(samples)} samples "
                             f"({'files given' if args.files else 'in the test split of ' + str(model.path)}); "
                             "add event files with --files or lower --n")
        samples = samples.first(args.n)
    t0 = time.perf_counter()
    design = prepare_design(model.network, model.steps, point.lanes, units=point.units)
    expect = Expectations.from_golden(model.network, samples.x, design.manifest.cycle_model, samples.tags, samples.truth)
    prep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_harness(design)
    build_s = time.perf_counter() - t0
    stalled = args.stall_in > 0 or args.stall_out > 0
    records, sim_s, harness_log = run_harness(design, expect, args.stall_in, args.stall_out, args.max_gap, args.seed, args.jobs)
    report = check(expect, records, stalled)
    out = args.out or build_dir(model.name) / REPORT_FILE
    stats = report.cycle_stats()
    known = expect.truth >= 0
    extra = {
        "model": model.origin().to_dict(),
        "lanes": point.lanes,
        "units": point.units,
        "steps": model.steps,
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
        "rtl_accuracy_vs_dataset_labels": round(float((expect.labels[known] == expect.truth[known]).mean()), 4) if known.any() else None,
        "harness": harness_log,
        "build_dir": str(design.build_dir("harness", False)),
    }
    report.write(out, **extra)
    print(report.describe())
    print(f"{len(expect)} samples in {sim_s:.2f} s of simulation ({extra['samples_per_s']} samples/s); cycles mean {stats.get('mean', 0):.0f} "
          f"(min {stats.get('min')}, max {stats.get('max')}), cycle model exact on {stats.get('equal_to_model')}/{stats.get('n')}; report {out}")
    if report.failed:
        raise CheckFailed(f"{len(report.failed)} of {len(expect)} samples differ from the golden model (report {out})")
    return 0


def _count_sources(tags: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in tags:
        key = t.split(" ")[0]
        out[key] = out.get(key, 0) + 1
    return out


COMMAND = Command("sim-batch", "Run many samples through the RTL under Verilator and check them against the golden model.",
                  add_arguments, run)
