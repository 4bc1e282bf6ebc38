"""Run the cocotb tests of `sim/snn_cocotb.py` on one design through `cocotb_tools.runner`.

    result = run_cocotb(design, expect, plan_phases, clears, name="default-saccade")

writes the expectations (.npz) and the plan (.json) into `build/sim/runs/<name>/`, builds
the design (cached, sim/design.py), starts Verilator with `SIM_PLAN` naming the plan, and
returns the reports the cocotb tests wrote, one per test. `WAVES=1` in the environment
builds with VCD tracing and leaves `dump.vcd` in that folder (FST would need the lz4
headers, which the machines lack).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from snn2fpga.rtl.manifest import MANIFEST_FILE
from snn2fpga.sim.design import BUILD_ROOT, TOP, Design, build_cocotb, nice_runner, waves_env
from snn2fpga.sim.plan import ENV, ClearCase, Phase, Plan
from snn2fpga.sim.reference import Expectations

TEST_MODULE = "sim.snn_cocotb"


def waves_requested() -> bool:
    return os.environ.get("WAVES", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class RunResult:
    reports: dict[str, dict]  # cocotb test name → its JSON report (absent if it never wrote one)
    run_dir: Path
    passed: bool  # the simulator ran every test and none failed
    error: str  # why not, if not
    wall_s: float
    waves: Optional[Path]

    def describe(self) -> str:
        lines = [f"simulation in {self.run_dir} ({self.wall_s:.1f} s): {'passed' if self.passed else 'FAILED'} {self.error}"]
        for test, rep in self.reports.items():
            for phase, r in rep.items():
                if isinstance(r, dict) and "mismatch_list" in r:
                    lines.append(f"  {test}/{phase}: {r['passed']} passed, {r['failed']} failed, cycles {r['cycles']}")
                    lines += [f"    {m['text']}" for m in r["mismatch_list"][:30]]
        return "\n".join(lines)


def run_cocotb(
    design: Design,
    expect: Expectations,
    name: str,
    phases: Sequence[Phase] = (),
    clears: Sequence[ClearCase] = (),
    waves: Optional[bool] = None,
    protocol: bool = False,
) -> RunResult:
    """Simulate `phases` (test `samples`), `clears` (test `clear_mid_sample`) and, with
    `protocol`, `input_held_off_during_clear`, in one Verilator run."""
    waves = waves_requested() if waves is None else waves
    build_dir = build_cocotb(design, waves)
    run_dir = BUILD_ROOT / "runs" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    for old in [*run_dir.glob("report.*.json"), run_dir / "dump.fst", run_dir / "dump.vcd"]:
        old.unlink(missing_ok=True)
    plan = Plan(
        expect=str(expect.save(run_dir / "expect.npz")),
        manifest=str(design.rtl_dir / MANIFEST_FILE),
        report=str(run_dir / "report"),
        phases=list(phases),
        clears=list(clears),
        protocol=protocol,
    )
    plan_path = plan.save(run_dir / "plan.json")
    tests = (["samples"] if phases else []) + (["clear_mid_sample"] if clears else [])
    tests += ["input_held_off_during_clear"] if protocol else []
    runner = nice_runner()
    error = ""
    t0 = time.perf_counter()
    with waves_env(waves):
        try:
            runner.test(
                test_module=TEST_MODULE,
                hdl_toplevel=TOP,
                hdl_toplevel_lang="verilog",
                build_dir=build_dir,
                test_dir=run_dir,
                testcase=tests,
                extra_env={ENV: str(plan_path)},
                waves=waves,
                log_file=run_dir / "sim.log",
            )
        except SystemExit as e:  # the runner exits when a cocotb test fails or the simulator dies
            error = f"(simulator/cocotb exit {e.code}; log {run_dir / 'sim.log'})"
    wall = time.perf_counter() - t0
    reports = {}
    for test in tests:
        path = plan.report_path(test)
        if path.exists():
            reports[test] = json.loads(path.read_text())
        else:
            error = error or f"(test {test} wrote no report; log {run_dir / 'sim.log'})"
    wave_file = run_dir / "dump.vcd"
    return RunResult(reports, run_dir, not error, error, wall, wave_file if wave_file.exists() else None)
