"""A bitstream for a board: the board top in the board's amaranth-boards platform, built by
the YoWASP tools (Yosys, nextpnr, ecppack / icepack from PyPI), with a report beside it.

`build_board(network, steps, point, board, out_dir, baud=…)` writes into `out_dir` (built in a
temporary folder and renamed into place): the platform's build files (`snn_board.il`, the
constraints, `build_snn_board.sh`), the logs, `snn_board.bit` (ECP5) or `snn_board.bin`
(iCE40), and `report.json` / `report.md`: resources after place and route, Fmax, the
bitstream's size, the serial settings, the FIFO budget and the build time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

from snn2fpga.board.boards import Board, BoardError, check_fits
from snn2fpga.board.budget import fifo_budget
from snn2fpga.board.top import BoardTop, board_core
from snn2fpga.board.uart import divisor_for
from snn2fpga.core.files import building_dir
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.rtl.point import DesignPoint
from snn2fpga.synth import nextpnr, yosys
from snn2fpga.synth.errors import DoesNotFitError
from snn2fpga.synth.targets import get_target, resolve_device
from snn2fpga.synth.tools import NICE, log_tail, tool_path, tool_version

NAME = "snn_board"
REPORT_FORMAT = "snn2fpga-board/1"
TOOLS = {"ecp5": ("yosys", "nextpnr-ecp5", "ecppack"), "ice40": ("yosys", "nextpnr-ice40", "icepack")}
BITSTREAM = {"ecp5": f"{NAME}.bit", "ice40": f"{NAME}.bin"}
LOGIC_CELL = {"ecp5": "TRELLIS_COMB", "ice40": "ICESTORM_LC"}  # nextpnr's logic cells, as synth's lut_pnr


class BuildError(BoardError):
    """A tool of the flow failed for a reason other than the design not fitting."""


def build_board(network: GoldenNetwork, steps: int, point: DesignPoint, board: Board, out_dir, *, baud: int,
                model: Optional[dict] = None, timeout: Optional[float] = None, extra: Optional[dict] = None) -> dict:
    """Build the bitstream of `network` for `board`; return the report (also in out_dir/report.json),
    with `extra`'s entries added."""
    check_fits(network, board)
    divisor = divisor_for(board.clk_hz, baud)
    budget = fifo_budget(network, steps, point.lanes, point.units, divisor)
    core = board_core(network, steps, point, divisor)
    report = {
        "format": REPORT_FORMAT, "board": board.name, "title": board.title, "device": board.device,
        "family": board.family, "clk_mhz": board.clk_hz / 1e6, "baud": baud, "cycles_per_bit": divisor,
        "lanes": point.lanes, "units": point.units, "steps": steps, "model": model or {},
        "fifo": budget.to_dict(), "tools": {t: tool_version(f"yowasp-{t}") or tool_version(f"yowasp-nextpnr-{board.family}")
                                           for t in TOOLS[board.family]},
        **(extra or {}),
    }
    out_dir = Path(out_dir)
    start = time.perf_counter()
    with building_dir(out_dir) as work:
        plan = board.platform().prepare(BoardTop(core), name=NAME, **_overrides(board))
        plan.extract(work)
        report["runtime_s"] = {"elaborate": round(time.perf_counter() - start, 1)}
        _run_script(board, work, timeout)
        report["runtime_s"]["tools"] = round(time.perf_counter() - start - report["runtime_s"]["elaborate"], 1)
        pr = nextpnr.read_report(work / "nextpnr.json")
        util = pr["utilization"]
        counts = get_target(board.family).count(yosys.read_stat(work / "stat.json")["cells"])
        report.update({k: counts[k] for k in ("lut", "ff", "bram", "dsp", "lutram")})
        report["lut_pnr"] = util.get(LOGIC_CELL[board.family], {}).get("used")
        report.update(fmax_mhz=pr["fmax_mhz"], timing_met=pr["timing_met"], utilization=util)
        bitstream = work / BITSTREAM[board.family]
        report["bitstream"] = {"file": bitstream.name, "bytes": bitstream.stat().st_size}
        report["runtime_s"]["total"] = round(time.perf_counter() - start, 1)
        (work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (work / "report.md").write_text(markdown(report))
    return report


def _overrides(board: Board) -> dict:
    """Build options: nextpnr's JSON report (Fmax, utilisation), a result even if timing fails."""
    opts = {"nextpnr_opts": "--report nextpnr.json --timing-allow-fail --seed 1",
            "debug_verilog": False,
            "script_after_synth": "tee -q -o stat.json stat -json"}  # Yosys' cell counts, as synth/ reads them
    if board.family == "ecp5":
        opts["ecppack_opts"] = "--compress"
    return opts


def _run_script(board: Board, work: Path, timeout: Optional[float]) -> None:
    """Run the platform's build script with the YoWASP executables, at low priority, logged."""
    env = dict(os.environ)
    for tool in TOOLS[board.family]:
        env[tool.upper().replace("-", "_")] = tool_path(f"yowasp-{tool}")
    cmd = ["sh", f"build_{NAME}.sh"]
    if shutil.which("nice"):
        cmd = ["nice", "-n", str(NICE), *cmd]
    log = work / "build.log"
    with open(log, "w") as out:
        try:
            proc = subprocess.run(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BuildError(f"the {board.name} build did not finish within {timeout:.0f} s") from None
    if proc.returncode == 0:
        return
    tim = work / f"{NAME}.tim"  # nextpnr's log
    text = tim.read_text(errors="replace") if tim.exists() else ""
    tgt = get_target(board.family)
    try:
        nextpnr.diagnose(text, resolve_device(tgt, board.device), tgt)
    except DoesNotFitError as exc:
        over = ", ".join(f"{k} {exc.utilization[k]['used']}/{exc.utilization[k]['available']}"
                         for k in exc.over if k in exc.utilization) or ", ".join(exc.over)
        raise BoardError(f"the model does not fit the {board.title}: {over} (nextpnr)") from None
    tail = log_tail(log, 1) or log_tail(tim, 1)
    raise BuildError(f"the {board.name} build failed (exit {proc.returncode}): {tail.strip()}")


def markdown(report: dict) -> str:
    """report.md: the figures a reader looks for first."""
    rows = [("board", f"{report['title']} ({report['device']}, {report['clk_mhz']:g} MHz)"),
            ("design point", f"P = {report['lanes']}, Q = {report['units'] or 'one per lane'}"),
            ("LUT / FF / block RAM / DSP / LUT RAM (Yosys)",
             f"{report['lut']:,} / {report['ff']:,} / {report['bram']} / {report['dsp']} / {report['lutram']}"),
            ("logic cells after place and route", f"{report['lut_pnr']:,}"),
            ("Fmax", f"{report['fmax_mhz']} MHz (needs {report['clk_mhz']:g})"),
            ("bitstream", f"{report['bitstream']['file']}, {report['bitstream']['bytes']:,} bytes"),
            ("UART", f"{report['baud']:,} baud 8N1, {report['cycles_per_bit']} cycles a bit, FIFO {report['fifo']['depth']} bytes"),
            ("build time", f"{report['runtime_s']['total']} s")]
    return "| | |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
