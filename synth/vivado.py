"""A Vivado non-project Tcl flow for 7-series parts, for users who have Vivado.

NOT RUN by this project (no Vivado here); the open-source numbers for xc7 come from Yosys'
`synth_xilinx`. `write_vivado(...)` writes

    out_dir/rtl/       the generated design (rtl.generate)
    out_dir/build.tcl  read_verilog → synth_design (out of context) → opt / place / phys_opt /
                       route → utilization, timing and RAM reports, a routed checkpoint

Run: `cd out_dir && vivado -mode batch -source build.tcl [-tclargs PART PERIOD_NS]`.
Out-of-context mode: no I/O buffers and no pin assignment, so the numbers are the core's
own (snn_top has more ports than some packages have pins; a system wraps it anyway).
"""

from __future__ import annotations

from pathlib import Path

from snn2fpga.rtl.generate import generate
from snn2fpga.rtl.manifest import Manifest
from snn2fpga.synth.targets import TARGETS, resolve_device
from snn2fpga.core.files import building_dir
from snn2fpga.core.golden import GoldenNetwork

TCL = """\
# Vivado non-project flow for snn_top, written by synth/vivado.py ({source}).
# Not run by the snn2fpga project (no Vivado there): the open-source numbers come from
# Yosys synth_xilinx (`make synth TARGET=xc7`). Usage, from this folder:
#   vivado -mode batch -source build.tcl [-tclargs PART PERIOD_NS]
# Network {sizes}, P = {lanes} lanes, T = {steps} steps.
set here [file dirname [file normalize [info script]]]
set part {part}
set period_ns {period:.3f}
if {{$argc >= 1}} {{ set part [lindex $argv 0] }}
if {{$argc >= 2}} {{ set period_ns [lindex $argv 1] }}
set out [file join $here out]
file mkdir $out

# The memory images are inlined in snn_top.v as initial blocks (the .hex files beside it
# hold the same words, for reference); Vivado infers block RAM from them.
read_verilog [file join $here rtl snn_top.v]
synth_design -top snn_top -part $part -mode out_of_context
create_clock -name clk -period $period_ns [get_ports clk]
report_utilization -file [file join $out post_synth_utilization.rpt]

opt_design
place_design
phys_opt_design
route_design

report_utilization -file [file join $out utilization.rpt]
report_utilization -hierarchical -file [file join $out utilization_hierarchical.rpt]
report_ram_utilization -file [file join $out ram_utilization.rpt]
report_timing_summary -max_paths 10 -file [file join $out timing_summary.rpt]
report_timing -max_paths 10 -sort_by group -file [file join $out timing.rpt]
write_checkpoint -force [file join $out snn_top_routed.dcp]

set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]
set fmax [expr {{1000.0 / ($period_ns - $wns)}}]
set fh [open [file join $out summary.txt] w]
puts $fh "part $part period_ns $period_ns wns_ns $wns fmax_mhz [format %.1f $fmax]"
close $fh
puts "snn_top on $part: WNS $wns ns at $period_ns ns -> Fmax [format %.1f $fmax] MHz; reports in $out"
"""


def vivado_tcl(manifest: Manifest, part: str, freq_mhz: float, source: str = "") -> str:
    sizes = [manifest.n_in] + [layer.n for layer in manifest.layers]
    return TCL.format(source=source or "generated design", sizes="→".join(map(str, sizes)),
                      lanes=manifest.lanes, steps=manifest.steps, part=part, period=1000.0 / freq_mhz)


def write_vivado(network: GoldenNetwork, steps: int, lanes: int, out_dir, part: str = "xc7a35tcpg236-1",
                 freq_mhz: float = 100.0, source: str = "", units: int | None = None) -> Path:
    """Write out_dir/rtl/ and out_dir/build.tcl (atomically); return the Tcl path."""
    dev = resolve_device(TARGETS["xc7"], part)  # validates the part name
    out_dir = Path(out_dir)
    with building_dir(out_dir) as work:
        manifest = generate(network, steps, lanes, work / "rtl", source=source, units=units)
        (work / "build.tcl").write_text(vivado_tcl(manifest, dev.name, freq_mhz, source))
    return out_dir / "build.tcl"
