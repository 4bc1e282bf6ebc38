"""The `synth` and `bench` commands (docs/synth.md).

`synth` writes build/<name>/synth/<target>/ (report.json, report.md, logs, the generated RTL);
for xc7 also build/<name>/vivado/build.tcl (not run here). A design that does not fit, or a
memory not in block RAM, is a user error (exit 2); a tool that broke is exit 1.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from snn2fpga.core.cli import Command, natural_int, positive_int
from snn2fpga.core.paths import build_dir
from snn2fpga.export.cli import add_model_argument
from snn2fpga.rtl.point import add_point_arguments, point_of
from snn2fpga.synth.flow import DEFAULT_FREQ_MHZ
from snn2fpga.synth.targets import DEFAULT_TARGET, TARGETS


def _target_arguments(p: argparse.ArgumentParser) -> None:
    """Model, design point, target and device: declared once for synth and bench."""
    add_model_argument(p)
    add_point_arguments(p)
    p.add_argument("--target", "-t", choices=sorted(TARGETS), default=DEFAULT_TARGET, help="FPGA family")
    p.add_argument("--freq", type=float, default=None,
                   help="clock asked of nextpnr / written into the Vivado script, MHz "
                        f"(default {', '.join(f'{k} {v:g}' for k, v in DEFAULT_FREQ_MHZ.items())})")
    p.add_argument("--device", default=None, help="ECP5 LFE5U-25F (default) …, iCE40 up5k (default) …, xc7 part xc7a35tcpg236-1 (default) …")
    p.add_argument("--no-pnr", action="store_true", help="synthesis only (no Fmax)")


def _synth_arguments(p: argparse.ArgumentParser) -> None:
    _target_arguments(p)
    p.add_argument("--package", default=None, help="ECP5 CABGA256 (default) …; iCE40 sg48 …")
    p.add_argument("--speed", default=None, help="ECP5 speed grade 6 (default), 7, 8")
    p.add_argument("--memory-policy", choices=("block", "auto"), default="block",
                   help="block: every memory to block RAM; auto: Yosys decides, weights must be block RAM")
    p.add_argument("--out", type=Path, default=None, help="output folder (default build/<name>/synth/<target>)")


def _synth(args: argparse.Namespace) -> int:
    from snn2fpga.synth.model import load_model
    from snn2fpga.synth.flow import synthesize
    from snn2fpga.synth.report import markdown_report
    from snn2fpga.synth.vivado import write_vivado

    info = load_model(args.model)
    point = point_of(args)
    out = args.out or build_dir(info.name) / "synth" / args.target
    report = synthesize(info.network, info.steps, point.lanes, args.target, out, device=args.device,
                        package=args.package, speed=args.speed, freq_mhz=args.freq, pnr=not args.no_pnr,
                        memory_policy=args.memory_policy, model=info.describe(), units=point.units)
    if args.target == "xc7":
        vivado = out / "vivado" if args.out else build_dir(info.name) / "vivado"
        tcl = write_vivado(info.network, info.steps, point.lanes, vivado, units=point.units,
                           part=args.device or TARGETS["xc7"].default_device,
                           freq_mhz=args.freq or DEFAULT_FREQ_MHZ["xc7"], source=str(args.model))
        print(f"wrote {tcl} (Vivado non-project flow; not run here)")
    print(markdown_report(report).split("\n\n", 2)[1])  # the table
    print(f"wrote {out}/report.json, report.md")
    return 0


def _bench_arguments(p: argparse.ArgumentParser) -> None:
    from snn2fpga.synth.bench import PER_LANE_LANES, SWEEP_LANES, VARIANT_LANES, WEIGHT_VARIANTS

    _target_arguments(p)
    p.add_argument("--per-lane-lanes", type=positive_int, nargs="*", default=list(PER_LANE_LANES),
                   help="P values also built with one LIF unit per lane")
    p.add_argument("--sweep", type=positive_int, nargs="+", default=list(SWEEP_LANES), help="P values for the model's own weights")
    p.add_argument("--variants", nargs="*", default=list(WEIGHT_VARIANTS), help="weight widths")
    p.add_argument("--variant-lanes", type=positive_int, nargs="*", default=list(VARIANT_LANES), help="P values for the int variants")
    p.add_argument("--validate", type=natural_int, default=2, help="test samples simulated to check the cycle model")
    p.add_argument("--jobs", "-j", type=positive_int, default=min(2, os.cpu_count() or 1), help="design points synthesized at a time")
    p.add_argument("--force", action="store_true", help="re-run synthesis even where a matching report exists")


def _bench(args: argparse.Namespace) -> int:
    from snn2fpga.synth.bench import bench_markdown, run_bench

    point = point_of(args)
    result = run_bench(args.model, target=args.target, lanes=args.sweep, default_lanes=point.lanes, units=point.units,
                       per_lane_lanes=args.per_lane_lanes, variants=args.variants, variant_lanes=args.variant_lanes,
                       pnr=not args.no_pnr, freq_mhz=args.freq, device=args.device, validate_samples=args.validate,
                       force=args.force, jobs=args.jobs)
    print(bench_markdown(result))
    print(f"wrote build/{result['name']}/bench.json, bench.md, pareto.png")
    return 0


COMMANDS = (
    Command("synth", "Open-source synthesis and place-and-route of a model's datapath (Yosys + nextpnr).", _synth_arguments, _synth),
    Command("bench", "Latency, throughput and resources over P, Q and weight widths, with a Pareto plot.", _bench_arguments, _bench),
)
