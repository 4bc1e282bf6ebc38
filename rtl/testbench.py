"""amaranth.sim testbenches for the layer core and the top (the tests' harness).

A producer testbench puts a spike train on `i_stream` (one AER word per input spike,
then eos, per step), a consumer takes every word off `o_stream`; both can stall at
random. A free-running cycle counter beside the design timestamps each transfer, so
the runs can be held to the cycle model (rtl/cycle_model.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from amaranth import Module, Signal
from amaranth.sim import Simulator

from snn2fpga.rtl.stalls import Stalls
from snn2fpga.core.golden import GoldenNetwork, Layer


class Gaps:
    """The gaps of one stream under `stalls`: before each word, k cycles with P(k > 0) = rate."""

    def __init__(self, stalls: Optional[Stalls]) -> None:
        self.stalls = stalls or Stalls()
        self.rng = np.random.default_rng(self.stalls.seed)

    def next(self) -> int:
        s = self.stalls
        if s.rate <= 0 or self.rng.random() >= s.rate:
            return 0
        return int(self.rng.integers(1, s.max_gap + 1))


def aer_steps(spikes: np.ndarray) -> list[list[int]]:
    """Per step, the input addresses in increasing order ([T, N_in] 0/1 → lists)."""
    return [np.flatnonzero(row).tolist() for row in np.asarray(spikes)]


async def stream_put(ctx, stream, payload: dict, cycle: Signal) -> int:
    """Offer one word; returns the cycle it was accepted in."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    when, = await ctx.tick().sample(cycle).until(stream.ready)
    ctx.set(stream.valid, 0)
    return when


async def stream_get(ctx, stream, cycle: Signal) -> tuple[int, int, int]:
    """Take one word; returns (addr, eos, cycle of the transfer)."""
    ctx.set(stream.ready, 1)
    payload, when = await ctx.tick().sample(stream.payload, cycle).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload.addr, payload.eos, when


async def _idle(ctx, cycles: int) -> None:
    if cycles:
        await ctx.tick().repeat(cycles)


async def produce(ctx, stream, steps: list[list[int]], cycle: Signal, gaps: Gaps, accepted: list[int]) -> None:
    """Producer: each step's addresses then an eos word; `accepted` gets each word's cycle."""
    for addresses in steps:
        for addr in addresses + [None]:
            await _idle(ctx, gaps.next())
            payload = {"addr": 0, "eos": 1} if addr is None else {"addr": addr, "eos": 0}
            accepted.append(await stream_put(ctx, stream, payload, cycle))


def _with_counter(dut) -> tuple[Module, Signal]:
    m = Module()
    m.submodules.dut = dut
    cycle = Signal(32)
    m.d.sync += cycle.eq(cycle + 1)
    return m, cycle


async def _wait_ready(ctx, stream) -> None:
    """Wait out the clearing sweep after reset: until the input accepts words."""
    await ctx.tick().until(stream.ready)


@dataclass
class LayerRun:
    spikes: np.ndarray  # uint8 [T, N]
    membranes: np.ndarray  # int64 [T, N], codes after each step
    step_end: list[int]  # cycle each output eos left
    accepted: list[int]  # cycle each input word was accepted


def run_layer(
    layer: Layer,
    lanes: int,
    spikes: np.ndarray,
    in_stalls: Optional[Stalls] = None,
    out_stalls: Optional[Stalls] = None,
    units: Optional[int] = None,
) -> LayerRun:
    """Simulate one layer's core (`rtl.top.make_core`: P = lanes, Q = units) on input spikes [T, N_in];
    collect its spikes and membranes (none for a pool)."""
    from snn2fpga.rtl.top import make_core

    core = make_core(layer, lanes, units)
    m, cycle = _with_counter(core)
    steps = aer_steps(spikes)
    n_steps, n = len(steps), layer.n_out
    in_gaps, out_gaps = Gaps(in_stalls), Gaps(out_stalls or Stalls(seed=1))
    out = np.zeros((n_steps, n), dtype=np.uint8)
    membranes = np.zeros((n_steps, n), dtype=np.int64)
    accepted: list[int] = []
    step_end: list[int] = []

    async def producer(ctx):
        await _wait_ready(ctx, core.i_stream)
        await produce(ctx, core.i_stream, steps, cycle, in_gaps, accepted)

    async def consumer(ctx):
        for t in range(n_steps):
            while True:
                await _idle(ctx, out_gaps.next())
                addr, eos, when = await stream_get(ctx, core.o_stream, cycle)
                if eos:
                    break
                out[t, addr] += 1
            step_end.append(when)
            for r in range(core.rows if core.kind != "pool" else 0):
                row = ctx.get(core.membranes.data[r])
                for j in range(core.lanes):
                    neuron = core.neuron_at(r, j)
                    if neuron is not None:
                        membranes[t, neuron] = row[j]

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.run()
    return LayerRun(out, membranes, step_end, accepted)


@dataclass
class TopRun:
    spikes: list[np.ndarray]  # per layer uint8 [T, N_l], from the debug taps
    counts: np.ndarray  # int [N_last]
    label: int
    cycles: int  # first input word accepted → first cycle `done` is high
    words_out: int  # words taken off o_stream after the clear


def run_top(
    network: GoldenNetwork,
    steps: int,
    lanes: int,
    spikes: np.ndarray,
    in_stalls: Optional[Stalls] = None,
    out_stalls: Optional[Stalls] = None,
    prelude: Optional[np.ndarray] = None,
    units: Optional[int] = None,
) -> TopRun:
    """Simulate `SNNTop` on one sample [T, N_in]; every layer's spikes per step via the taps.

    With `prelude` (spikes [T', N_in]), those words are fed first and `clear` is pulsed
    right after the last one is accepted, mid-flight, before the sample proper.
    """
    from snn2fpga.rtl.top import SNNTop

    top = SNNTop(network, steps, lanes, units)
    m, cycle = _with_counter(top)
    n_layers = len(network.layers)
    taps = [getattr(top, f"tap{i}") for i in range(n_layers)]
    in_gaps, out_gaps = Gaps(in_stalls), Gaps(out_stalls or Stalls(seed=1))
    seen = [np.zeros((steps, layer.n_out), dtype=np.uint8) for layer in network.layers]
    result: dict = {"words_out": 0}

    async def producer(ctx):
        await _wait_ready(ctx, top.i_stream)
        if prelude is not None:
            await produce(ctx, top.i_stream, aer_steps(prelude), cycle, Gaps(None), [])
            ctx.set(top.clear, 1)
            await ctx.tick()
            ctx.set(top.clear, 0)
            await _wait_ready(ctx, top.i_stream)
        accepted: list[int] = []
        await produce(ctx, top.i_stream, aer_steps(spikes), cycle, in_gaps, accepted)
        result["first"] = accepted[0]

    async def consumer(ctx):
        o = top.o_stream
        while True:
            await _idle(ctx, out_gaps.next())
            ctx.set(o.ready, 1)
            valid, done = await ctx.tick().sample(o.valid, top.done).until(o.valid | top.done)
            ctx.set(o.ready, 0)
            if done and not valid:
                return

    async def monitor(ctx):
        step = [0] * n_layers
        exprs = [x for tap in taps for x in (tap.valid, tap.ready, tap.payload)]
        while True:
            _clk, _rst, *values, clear, done, now = await ctx.tick().sample(*exprs, top.clear, top.done, cycle)
            if clear:
                step = [0] * n_layers
                for s in seen:
                    s[:] = 0
                result["words_out"] = 0
                continue
            for i in range(n_layers):
                valid, ready, payload = values[3 * i : 3 * i + 3]
                if not (valid and ready):
                    continue
                if i == n_layers - 1:
                    result["words_out"] += 1
                if payload.eos:
                    step[i] += 1
                elif step[i] < steps:
                    seen[i][step[i], payload.addr] += 1
            if done:
                result["done"] = now
                result["counts"] = np.array(list(ctx.get(top.counts)), dtype=np.int64)
                result["label"] = ctx.get(top.label)
                return

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(producer)
    sim.add_testbench(consumer)
    sim.add_testbench(monitor)
    sim.run()
    return TopRun(seen, result["counts"], result["label"], result["done"] - result["first"], result["words_out"])
