"""The board top under Verilator + cocotb: Verilog of `BoardCore`, one cached build, a run of
board/board_cocotb.py's tests.

    build/board-sim/<key>/snn_board.v     amaranth.back.verilog of the board top
    build/board-sim/<key>/obj/            the Verilator build (cocotb's runner, as sim/ builds)
    build/board-sim/runs/<name>/          plan.json, samples.npz, network.json, reports, sim.log
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snn2fpga.board.top import BOARD_TOP, board_core
from snn2fpga.core.files import write_json, write_npz, write_text
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.core.paths import build_dir
from snn2fpga.rtl.point import DesignPoint
from snn2fpga.rtl.sources import DESIGN_SOURCES, source_key
from snn2fpga.sim.design import nice_runner

ROOT = build_dir("board-sim").resolve()
TEST_MODULE = "snn2fpga.board.board_cocotb"
SIM_DIVISOR = 8  # clock cycles per bit in simulation: short runs; the board's own divisor is clk / baud
LINT_WAIVERS = Path(__file__).with_name("lint.vlt")
BOARD_SOURCES = tuple(Path(__file__).with_name(f) for f in ("top.py", "uart.py", "protocol.py", "budget.py"))


@dataclass(frozen=True)
class BoardSimRun:
    ok: bool
    reports: dict
    run_dir: Path
    wall_s: float


def board_verilog(network: GoldenNetwork, steps: int, point: DesignPoint, divisor: int) -> Path:
    """Verilog of the board top (cached by network, T, P, Q, divisor and the sources)."""
    from amaranth.back import verilog

    blob = json.dumps([network.to_dict(), steps, point.lanes, point.units, divisor], sort_keys=True)
    key = source_key(blob, DESIGN_SOURCES + BOARD_SOURCES)[:16]
    path = ROOT / key / f"{BOARD_TOP}.v"
    if not path.exists():
        write_text(path, verilog.convert(board_core(network, steps, point, divisor), name=BOARD_TOP, emit_src=False))
    return path


def build(verilog_path: Path) -> Path:
    """The Verilator build of the board top for cocotb (reused while the Verilog is unchanged), with
    board/lint.vlt's waivers (rtl/lint.vlt's, for this file): any other warning fails the build."""
    digest = hashlib.sha256(verilog_path.read_bytes()).hexdigest()[:16]
    out = verilog_path.parent / f"obj-{digest}"
    if not (out / "build.ok").exists():
        nice_runner().build(sources=[LINT_WAIVERS, verilog_path], hdl_toplevel=BOARD_TOP, build_dir=out,
                            log_file=verilog_path.parent / "build.log")
        (out / "build.ok").write_text("ok\n")
    return out


def run_board_sim(network: GoldenNetwork, steps: int, point: DesignPoint, x: np.ndarray, truth: np.ndarray,
                  tags: list[str], name: str, tests: tuple[str, ...] = ("samples", "garbage"),
                  divisor: int = SIM_DIVISOR, seed: int = 0) -> BoardSimRun:
    """Build and run the cocotb tests `tests` on the board top; each writes report.<test>.json."""
    import time

    obj = build(board_verilog(network, steps, point, divisor))
    run_dir = ROOT / "runs" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    for old in run_dir.glob("report.*.json"):
        old.unlink()
    write_json(run_dir / "network.json", network.to_dict())
    write_npz(run_dir / "samples.npz", {"x": x.astype(np.uint8), "truth": truth.astype(np.int64)})
    # simulated seconds: a sample's answer comes well within a few thousand bit times
    plan = {"network": str(run_dir / "network.json"), "samples": str(run_dir / "samples.npz"), "tags": tags,
            "divisor": divisor, "timeout_s": 2e-3, "settle_s": 2e-4, "seed": seed, "report": str(run_dir / "report")}
    write_json(run_dir / "plan.json", plan)
    start = time.perf_counter()
    ok = True
    try:
        nice_runner().test(test_module=TEST_MODULE, hdl_toplevel=BOARD_TOP, hdl_toplevel_lang="verilog", build_dir=obj,
                           test_dir=run_dir, testcase=list(tests), extra_env={"BOARD_PLAN": str(run_dir / "plan.json")},
                           log_file=run_dir / "sim.log")
    except SystemExit:
        ok = False
    reports = {}
    for test in tests:
        path = run_dir / f"report.{test}.json"
        if path.exists():
            reports[test] = json.loads(path.read_text())
        else:
            ok = False
    return BoardSimRun(ok, reports, run_dir, time.perf_counter() - start)
