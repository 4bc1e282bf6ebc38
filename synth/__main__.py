"""`python -m synth MODEL --target ecp5|ice40|xc7 [--lanes P] [--freq MHz]` (`make synth`, docs/synth.md).

Writes build/<name>/synth/<target>/ (report.json, report.md, logs, the generated RTL);
for xc7 also build/<name>/vivado/build.tcl (with --out: <out>/vivado/; not run here). Exit status 0 ok, 2 bad
input, 3 does not fit, 4 a memory not in block RAM, 5 a tool failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synth.errors import DoesNotFitError, MemoryMappingError, SynthError, ToolError
from synth.flow import DEFAULT_FREQ_MHZ, DEFAULT_LANES, DEFAULT_UNITS, synthesize
from synth.model import load_model
from synth.report import markdown_report
from synth.targets import TARGETS
from synth.vivado import write_vivado



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="run folder (model.qonnx or model.pt), .qonnx file, or network .json")
    parser.add_argument("--target", "-t", choices=sorted(TARGETS), default="ecp5")
    parser.add_argument("--lanes", "-P", type=int, default=DEFAULT_LANES, help=f"lanes P (default {DEFAULT_LANES})")
    parser.add_argument("--units", "-Q", type=int, default=DEFAULT_UNITS,
                        help=f"LIF units per layer (default {DEFAULT_UNITS}; 0: one per lane)")
    parser.add_argument("--freq", type=float, default=None,
                        help="clock asked of nextpnr / written into the Vivado script, MHz "
                             f"(default {', '.join(f'{k} {v:g}' for k, v in DEFAULT_FREQ_MHZ.items())})")
    parser.add_argument("--device", default=None, help="ECP5 LFE5U-25F (default) …, iCE40 up5k (default) …, "
                                                        "xc7 part xc7a35tcpg236-1 (default) …")
    parser.add_argument("--package", default=None, help="ECP5 CABGA256 (default) …; iCE40 sg48 …")
    parser.add_argument("--speed", default=None, help="ECP5 speed grade 6 (default), 7, 8")
    parser.add_argument("--memory-policy", choices=("block", "auto"), default="block",
                        help="block: every memory to block RAM (default); auto: Yosys decides, weights must be block RAM")
    parser.add_argument("--no-pnr", action="store_true", help="synthesis only")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default build/<name>/synth/<target>)")
    args = parser.parse_args(argv)
    try:
        info = load_model(args.model)
        out = args.out or Path("build") / info.name / "synth" / args.target
        report = synthesize(info.network, info.steps, args.lanes, args.target, out, device=args.device,
                            package=args.package, speed=args.speed, freq_mhz=args.freq, pnr=not args.no_pnr,
                            memory_policy=args.memory_policy, model=info.describe(), units=args.units or None)
        if args.target == "xc7":
            vivado = out / "vivado" if args.out else Path("build") / info.name / "vivado"
            tcl = write_vivado(info.network, info.steps, args.lanes, vivado, units=args.units or None,
                               part=args.device or TARGETS["xc7"].default_device,
                               freq_mhz=args.freq or DEFAULT_FREQ_MHZ["xc7"], source=str(args.model))
            print(f"wrote {tcl} (Vivado non-project flow; not run here)")
    except DoesNotFitError as exc:
        print(f"error: DOES NOT FIT: {exc}\n(see {out}/report.json and nextpnr.log)", file=sys.stderr)
        return 3
    except MemoryMappingError as exc:
        print(f"error: {exc}\n(see {out}/yosys.log, memory_libmap)", file=sys.stderr)
        return 4
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 5
    except (SynthError, ValueError, FileNotFoundError) as exc:  # bad model path, target, device, lanes
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(markdown_report(report).split("\n\n", 2)[1])  # the table
    print(f"wrote {out}/report.json, report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
