"""The cocotb tests of `snn_top`, run inside Verilator (started by sim/test_sim.py via sim/runner.py).

They read their `Plan` (samples, stalls, clear cases) and the golden `Expectations` from
the files named by $SIM_PLAN, and write a JSON report per test beside the plan.

- `samples`: every phase's samples through the design, each checked by the scoreboard
  (every layer's spikes per step, counts, class, cycles);
- `clear_mid_sample`: `clear` or `rst` in the middle of a sample, then a fresh sample,
  which must match the golden model from zero state (and the cycle model exactly).
"""

from __future__ import annotations

import json
import logging

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, SimTimeoutError, with_timeout

from snn2fpga.rtl.manifest import Manifest
from snn2fpga.sim.bench import Scoreboard, Testbench
from snn2fpga.sim.plan import Plan
from snn2fpga.sim.reference import Expectations, Mismatch

log = logging.getLogger("cocotb.snn.tests")


def _max_cycles(expect: Expectations, index: int, stalled: bool) -> int:
    model = int(expect.cycles[index])
    return (20 if stalled else 2) * model + 2000


def _load():
    plan = Plan.from_env()
    return plan, Expectations.load(plan.expect), Manifest.read(plan.manifest)


@cocotb.test()
async def samples(dut):
    """Run each phase's samples; every mismatch is logged and reported."""
    plan, expect, manifest = _load()
    tb = Testbench(dut, manifest)
    await tb.start()
    reports: dict[str, dict] = {}
    failures: list[str] = []
    for phase in plan.phases:
        tb.set_stalls(phase.stall_in, phase.stall_out)
        board = Scoreboard(expect, name=f"scoreboard.{phase.name}")
        stalled = any(s is not None and s.active for s in (phase.stall_in, phase.stall_out))
        for i in phase.samples:
            seen = await tb.run_sample(expect.input_words(i), _max_cycles(expect, i, stalled))
            board.check(i, seen, phase.cycles, phase.timing)
        reports[phase.name] = board.report.to_dict()
        log.info("phase %s: %s, cycles %s", phase.name, board.report.summary(), board.report.cycle_stats())
        if board.report.failed:
            failures.append(f"phase {phase.name}: {board.report.describe()}")
    _write(plan, "samples", reports)
    assert not failures, "\n".join(failures)


@cocotb.test()
async def clear_mid_sample(dut):
    """Clear (or reset) in the middle of a sample, then run a fresh one: no state may leak."""
    plan, expect, manifest = _load()
    tb = Testbench(dut, manifest)
    await tb.start()
    board = Scoreboard(expect, name="scoreboard.clear")
    want_clear = manifest.cycle_model.clear_cycles()
    cases = []
    for case in plan.clears:
        await tb.clear()
        sender = cocotb.start_soon(tb.driver.send(expect.input_words(case.first)))
        await ClockCycles(tb.clock.clk, max(1, int(case.at * int(expect.cycles[case.first]))))
        await _trigger(tb, case.trigger, int(expect.cycles[case.first]))
        sender.cancel()
        tb.driver.idle()
        await ReadOnly()
        state = {
            "step": int(dut.step.value),
            "words_sent": tb.driver.words,
            "taps_valid": [int(getattr(dut, f"{t.port}__valid").value) for t in manifest.taps],
        }
        await RisingEdge(tb.clock.clk)
        # the clear itself: one cycle of clear/rst; afterwards nothing of the first sample may show
        port = dut.rst if case.use_rst else dut.clear
        port.value = 1
        await ReadOnly()
        ready_during_clear = int(dut.i_stream__ready.value)
        await RisingEdge(tb.clock.clk)
        port.value = 0
        await ReadOnly()
        after = {"step": int(dut.step.value), "done": int(dut.done.value), "counts": tb.read_counts(), "clearing": int(dut.clearing.value)}
        start = tb.clock.edge()
        await RisingEdge(tb.clock.clk)
        await tb.clock.wait_cleared()
        clear_cycles = tb.clock.edge() - start
        for m in tb.monitors + [tb.out_monitor]:
            m.clear()
        seen = await tb.run_sample(expect.input_words(case.second), _max_cycles(expect, case.second, False), clear=False)
        found = board.check(case.second, seen, "exact", timing=True)
        extra: list[Mismatch] = []
        tag = expect.tags[case.second]
        if after["step"] or after["done"] or any(after["counts"]) or not after["clearing"]:
            extra.append(Mismatch(case.second, tag, "clear", "step 0, done 0, counts 0, clearing 1", after))
        if clear_cycles != want_clear:
            extra.append(Mismatch(case.second, tag, "clear_cycles", want_clear, clear_cycles))
        for m in extra:
            board.log.error("  %s", m)
        board.report.mismatches.extend(extra)
        if extra and case.second not in board.report.failed:
            board.report.failed.append(case.second)
        cases.append(
            {
                **case.__dict__,
                "interrupted_at": state,
                "after_clear": after,
                "clear_cycles": clear_cycles,
                "ready_during_clear": ready_during_clear,
                "trigger": case.trigger,
                "mismatches": len(found) + len(extra),
            }
        )
        log.info(
            "%s after %.0f%% of sample %d + %s (step %d, %d words in, taps valid %s), then sample %d: %s",
            "rst" if case.use_rst else "clear", 100 * case.at, case.first, case.trigger, state["step"], state["words_sent"],
            state["taps_valid"], case.second, "ok" if not (found or extra) else "MISMATCH",
        )
    _write(plan, "clear_mid_sample", {"clear": board.report.to_dict(), "cases": cases})
    assert not board.report.failed, board.report.describe()


async def _trigger(tb: Testbench, trigger: str, limit: int) -> None:
    """Wait for the moment a ClearCase names (see sim/plan.py); gives up after `limit` cycles."""
    clk = tb.clock.clk
    try:
        if trigger == "sweep":
            tb.driver.eos_sent.clear()
            await with_timeout(tb.driver.eos_sent.wait(), limit * tb.clock.period, "ns")
            await ClockCycles(clk, 2)
        elif trigger.startswith("tap"):
            valid = getattr(tb.dut, f"{trigger}__valid")
            await ReadOnly()
            if not int(valid.value):
                await with_timeout(RisingEdge(valid), limit * tb.clock.period, "ns")
            await RisingEdge(clk)
        elif trigger != "time":
            raise ValueError(f"unknown clear trigger {trigger!r}")
    except SimTimeoutError:
        log.warning("clear trigger %s never came; clearing anyway", trigger)
        await RisingEdge(clk)


@cocotb.test()
async def input_held_off_during_clear(dut):
    """While `clear` is high the input must not take a word (valid & ready would tell the
    producer it was taken, but the clear discards it). docs/rtl.md: "Words offered during a
    clear are simply not accepted"."""
    plan, expect, manifest = _load()
    tb = Testbench(dut, manifest)
    await tb.start()
    seen = {}
    for state, port in (("idle, clear", dut.clear), ("mid-sample, clear", dut.clear), ("idle, rst", dut.rst)):
        if state.startswith("mid-sample"):
            sender = cocotb.start_soon(tb.driver.send(expect.input_words(0)))
            await ClockCycles(tb.clock.clk, int(expect.cycles[0]) // 3)
            sender.cancel()
        await ReadOnly()
        ready_before = int(dut.i_stream__ready.value)
        await RisingEdge(tb.clock.clk)
        port.value = 1
        tb.driver.valid.value = 1
        tb.driver.payload.value = 0
        await ReadOnly()
        seen[state] = {"ready_before": ready_before, "ready_while_high": int(dut.i_stream__ready.value)}
        await RisingEdge(tb.clock.clk)
        port.value = 0
        tb.driver.idle()
        await tb.clock.wait_cleared()
    _write(plan, "input_held_off_during_clear", seen)
    taken = [k for k, v in seen.items() if v["ready_while_high"]]
    assert not taken, f"i_stream.ready high while clear/rst is high ({'; '.join(taken)}): a word offered then is handshaken and lost; {seen}"


def _write(plan: Plan, test: str, data: dict) -> None:
    path = plan.report_path(test)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
