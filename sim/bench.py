"""Reusable cocotb parts for `snn_top` (docs/rtl.md "Top: ports and protocol"), each with its logger.

- `ClockReset`: the clock, `rst`, a `clear` pulse that waits out the clearing sweep, edge numbers;
- `AerDriver`: sends a sample's AER words on `i_stream` (valid/ready), optional random gaps;
- `AerMonitor`: records every word that moves on one stream (valid & ready), split into
  time steps at each eos word, with the edge it moved on;
- `ReadyStaller`: drives `o_stream.ready`, high or with random low stretches;
- `Scoreboard`: compares each sample with the golden / cycle model (`sim.reference.compare`);
- `Testbench`: all of the above around one `snn_top`, `start()` / `clear()` / `run_sample()`.

Sampling convention: a handshake is read in the ReadOnly phase after edge k, with every
input settled, and the word moves on edge k + 1; an edge's number is its sim time
divided by the clock period. Waiting is event driven (`RisingEdge(valid)`,
`RisingEdge(ready)`, `RisingEdge(done)`), so Python wakes per word, not per cycle.
"""

from __future__ import annotations

import logging
import random
from typing import Optional, Sequence

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, FallingEdge, ReadOnly, RisingEdge, SimTimeoutError, with_timeout

from snn2fpga.rtl.manifest import Manifest
from snn2fpga.rtl.stalls import Stalls
from snn2fpga.sim.reference import Expectations, Mismatch, Report, SampleRecord, compare

CLOCK_NS = 10


class ClockReset:
    """The clock, synchronous reset and clear of one `snn_top`; edge numbers for timestamps."""

    def __init__(self, dut, period_ns: int = CLOCK_NS):
        self.dut = dut
        self.clk = dut.clk
        self.period = period_ns
        self.log = logging.getLogger("cocotb.snn.clock")

    def start(self) -> None:
        # low first: rising edges at (k + ½)·period, so edge k = ⌊t / period⌋
        Clock(self.clk, self.period, unit="ns").start(start_high=False)

    def edge(self) -> int:
        """Number of the latest rising edge (the current one, inside its time step)."""
        return int(get_sim_time("ns") // self.period)

    async def reset(self, cycles: int = 2) -> None:
        """Hold `rst` for `cycles` edges, then wait out the clearing sweep."""
        self.dut.rst.value = 1
        await ClockCycles(self.clk, cycles)
        self.dut.rst.value = 0
        await self.wait_cleared()

    async def clear(self, use_rst: bool = False) -> int:
        """One cycle of `clear` (or `rst`); returns the cycles from it falling until the
        input can take words (`clearing` low), i.e. the manifest's `clear_cycles`."""
        port = self.dut.rst if use_rst else self.dut.clear
        port.value = 1
        await RisingEdge(self.clk)
        port.value = 0
        start = self.edge()
        await self.wait_cleared()
        return self.edge() - start

    async def wait_cleared(self) -> None:
        await ReadOnly()
        if int(self.dut.clearing.value):
            await FallingEdge(self.dut.clearing)
        else:
            await RisingEdge(self.clk)


class _StreamPort:
    """The valid / ready / payload handles of the DUT's stream `prefix` (Amaranth's `prefix__valid` …)."""

    def __init__(self, clock: ClockReset, prefix: str):
        self.clock = clock
        self.valid = getattr(clock.dut, f"{prefix}__valid")
        self.ready = getattr(clock.dut, f"{prefix}__ready")
        self.payload = getattr(clock.dut, f"{prefix}__payload")


class AerDriver(_StreamPort):
    """Puts AER words on a valid/ready stream: per step the addresses, then an eos word."""

    def __init__(self, clock: ClockReset, prefix: str, addr_bits: int, stalls: Optional[Stalls] = None):
        super().__init__(clock, prefix)
        self.eos = 1 << addr_bits
        self.log = logging.getLogger(f"cocotb.snn.driver.{prefix}")
        self.set_stalls(stalls)
        self.first_edge: Optional[int] = None  # edge that moved the sample's first word
        self.words = 0
        self.eos_sent = Event()  # set each time an eos word moves
        self.valid.value = 0

    def set_stalls(self, stalls: Optional[Stalls]) -> None:
        self.stalls = stalls or Stalls()
        self._rng = random.Random(self.stalls.seed)

    def _gap(self) -> int:
        s = self.stalls
        return self._rng.randint(1, s.max_gap) if s.active and self._rng.random() < s.rate else 0

    async def send(self, steps: Sequence[Sequence[int]]) -> int:
        """Send a sample ([T] lists of addresses); returns the edge that moved its first word."""
        self.first_edge, self.words = None, 0
        for addresses in steps:
            for word in [int(a) for a in addresses] + [self.eos]:
                await self._put(word)
        self.valid.value = 0
        self.log.debug("sent %d words, first on edge %s", self.words, self.first_edge)
        return self.first_edge

    async def _put(self, word: int) -> None:
        gap = self._gap()
        if gap:
            self.valid.value = 0
            await ClockCycles(self.clock.clk, gap)
        self.valid.value = 1
        self.payload.value = word
        while True:
            await ReadOnly()
            if int(self.ready.value):
                break
            await RisingEdge(self.ready)
        await RisingEdge(self.clock.clk)  # the word moves on this edge
        if self.first_edge is None:
            self.first_edge = self.clock.edge()
        self.words += 1
        if word == self.eos:
            self.eos_sent.set()

    def idle(self) -> None:
        self.valid.value = 0


class AerMonitor(_StreamPort):
    """Records the words that move on one stream (a tap or a port): valid & ready at an edge."""

    def __init__(self, clock: ClockReset, prefix: str, addr_bits: int, name: Optional[str] = None):
        super().__init__(clock, prefix)
        self.addr_mask = (1 << addr_bits) - 1
        self.eos_bit = 1 << addr_bits
        self.name = name or prefix
        self.log = logging.getLogger(f"cocotb.snn.monitor.{self.name}")
        self.words: list[tuple[int, bool, int]] = []  # (addr, eos, edge it moved on)
        self._task = None

    def start(self) -> None:
        if self._task is None:
            self._task = cocotb.start_soon(self._run())

    def clear(self) -> None:
        """Forget what was recorded (a new sample starts)."""
        self.words = []

    async def _run(self) -> None:
        clk = self.clock.clk
        while True:
            await ReadOnly()
            if int(self.valid.value):
                if int(self.ready.value):
                    p = int(self.payload.value)
                    self.words.append((p & self.addr_mask, bool(p & self.eos_bit), self.clock.edge() + 1))
                await RisingEdge(clk)
            else:
                await RisingEdge(self.valid)

    def steps(self, origin: Optional[int]) -> tuple[list[list[int]], list[int]]:
        """The recorded words split at each eos word (a trailing partial step kept if not
        empty) and each eos word's edge counted from `origin`."""
        steps: list[list[int]] = []
        eos_edges: list[int] = []
        current: list[int] = []
        for addr, eos, edge in self.words:
            if eos:
                steps.append(current)
                eos_edges.append(edge - origin if origin is not None else edge)
                current = []
            else:
                current.append(addr)
        if current:
            steps.append(current)
        return steps, eos_edges


class ReadyStaller:
    """Drives a stream's ready: always high, or high for 1..8 edges then, with probability
    `rate`, low for 1..`max_gap` edges."""

    def __init__(self, clock: ClockReset, signal, stalls: Optional[Stalls] = None, name: str = "o_stream"):
        self.clock = clock
        self.signal = signal
        self.log = logging.getLogger(f"cocotb.snn.staller.{name}")
        self._task = None
        self.set_stalls(stalls)

    def set_stalls(self, stalls: Optional[Stalls]) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.stalls = stalls or Stalls()
        self.signal.value = 1
        if self.stalls.active:
            self._task = cocotb.start_soon(self._run(random.Random(self.stalls.seed)))

    async def _run(self, rng: random.Random) -> None:
        clk = self.clock.clk
        while True:
            self.signal.value = 1
            await ClockCycles(clk, rng.randint(1, 8))
            if rng.random() < self.stalls.rate:
                self.signal.value = 0
                await ClockCycles(clk, rng.randint(1, self.stalls.max_gap))


class Scoreboard:
    """Checks each sample a testbench ran against the expectations; keeps a `Report`."""

    def __init__(self, expect: Expectations, name: str = "scoreboard"):
        self.expect = expect
        self.report = Report()
        self.log = logging.getLogger(f"cocotb.snn.{name}")

    def check(self, index: int, seen: SampleRecord, cycles: str = "exact", timing: bool = False) -> list[Mismatch]:
        found = compare(self.expect, index, seen, cycles=cycles, check_timing=timing)
        self.report.add(index, found, seen.cycles, int(self.expect.cycles[index]))
        if found:
            self.log.error("sample %d (%s): %d mismatches", index, self.expect.tags[index], len(found))
            for m in found[:20]:
                self.log.error("  %s", m)
        else:
            self.log.debug("sample %d (%s) ok, %s cycles", index, self.expect.tags[index], seen.cycles)
        return found


class Testbench:
    """One `snn_top` with a driver on `i_stream`, monitors on every tap and `o_stream`, and a
    ready staller on `o_stream`."""

    def __init__(self, dut, manifest: Manifest, stall_in: Optional[Stalls] = None, stall_out: Optional[Stalls] = None):
        self.dut = dut
        self.manifest = manifest
        self.log = logging.getLogger("cocotb.snn.testbench")
        self.clock = ClockReset(dut)
        self.steps = manifest.steps
        self.count_bits = manifest.count_bits
        self.n_classes = manifest.n_classes
        dut.clear.value = 0
        dut.rst.value = 0
        self.driver = AerDriver(self.clock, "i_stream", manifest.aer.in_addr_bits, stall_in)
        self.monitors = [AerMonitor(self.clock, t.port, t.addr_bits) for t in manifest.taps]
        self.out_monitor = AerMonitor(self.clock, "o_stream", manifest.aer.out_addr_bits)
        self.staller = ReadyStaller(self.clock, dut.o_stream__ready, stall_out)

    def set_stalls(self, stall_in: Optional[Stalls], stall_out: Optional[Stalls]) -> None:
        self.driver.set_stalls(stall_in)
        self.staller.set_stalls(stall_out)

    async def start(self) -> None:
        """Clock, reset, monitors."""
        self.clock.start()
        for m in self.monitors + [self.out_monitor]:
            m.start()
        await self.clock.reset()

    async def clear(self, use_rst: bool = False) -> int:
        """Clear the design (one cycle of `clear`, or `rst`) and forget what the monitors saw."""
        self.driver.idle()
        cycles = await self.clock.clear(use_rst)
        for m in self.monitors + [self.out_monitor]:
            m.clear()
        return cycles

    def read_counts(self) -> list[int]:
        value = int(self.dut.counts.value)
        mask = (1 << self.count_bits) - 1
        return [(value >> (c * self.count_bits)) & mask for c in range(self.n_classes)]

    async def run_sample(
        self, steps: Sequence[Sequence[int]], max_cycles: int, use_rst: bool = False, clear: bool = True
    ) -> SampleRecord:
        """Clear (unless `clear=False`: the caller just did), send one sample, wait for
        `done`; what the ports and monitors saw."""
        if clear:
            await self.clear(use_rst)
        sender = cocotb.start_soon(self.driver.send(steps))
        note = ""
        done_edge = None
        try:
            await with_timeout(RisingEdge(self.dut.done), max_cycles * self.clock.period, "ns")
            done_edge = self.clock.edge() + 1  # done rose after this edge: first sampled high on the next
        except SimTimeoutError:
            note = f"timeout: no done after {max_cycles} cycles"
            self.log.error(note)
        counts, label = self.read_counts(), int(self.dut.label.value)
        await RisingEdge(self.clock.clk)
        if not sender.done():
            sender.cancel()
            self.driver.idle()
            note = note or "input not all taken"
        first = self.driver.first_edge
        return self.record(first, done_edge, counts, label, note)

    def record(self, first: Optional[int], done_edge: Optional[int], counts: list[int], label: int, note: str = "") -> SampleRecord:
        layers, eos_edges = [], []
        for m in self.monitors:
            steps, edges = m.steps(first)
            layers.append(steps)
            eos_edges.append(edges)
        out_steps, _ = self.out_monitor.steps(first)
        if out_steps != layers[-1]:  # tap L−1 mirrors o_stream: both must carry the same words
            note = (note + "; " if note else "") + "o_stream words differ from the last tap's"
            self.log.error("o_stream words differ from tap%d's", len(layers) - 1)
        cycles = done_edge - first if (done_edge is not None and first is not None) else None
        return SampleRecord(layers, counts, label, cycles, eos_edges, note)
