"""The UART in amaranth.sim: bytes out of UARTTx come back out of UARTRx; a start-bit glitch is
no byte; a low stop bit raises `framing`, drops the byte and waits for the line to go high."""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.sim import Simulator

from snn2fpga.board.uart import UARTRx, UARTTx

DIV = 6


def _rx_bench(drive):
    """Run `drive(ctx, rx)` against a UARTRx; return (bytes received, framing pulses)."""
    rx = UARTRx(DIV)
    got, framing = [], []
    sim = Simulator(rx)
    sim.add_clock(1e-8)

    async def watch(ctx):
        async for clk_edge, rst, valid, data, fr in ctx.tick().sample(rx.o_stream.valid, rx.o_stream.payload, rx.framing):
            if valid:
                got.append(data)
            if fr:
                framing.append(1)

    async def bench(ctx):
        ctx.set(rx.o_stream.ready, 1)
        await drive(ctx, rx)
        await ctx.tick().repeat(4 * DIV)

    sim.add_testbench(bench)
    sim.add_process(watch)
    sim.run()
    return got, framing


async def _send(ctx, rx, byte, stop=1):
    for bit in (0, *((byte >> i) & 1 for i in range(8)), stop):
        ctx.set(rx.rx, bit)
        await ctx.tick().repeat(DIV)
    ctx.set(rx.rx, 1)


def test_bytes_are_received_lsb_first():
    async def drive(ctx, rx):
        for b in (0x00, 0xFF, 0xA5, 0x3C):
            await _send(ctx, rx, b)
    got, framing = _rx_bench(drive)
    assert got == [0x00, 0xFF, 0xA5, 0x3C] and framing == []


def test_a_glitch_shorter_than_half_a_bit_is_no_byte():
    async def drive(ctx, rx):
        ctx.set(rx.rx, 0)
        await ctx.tick().repeat(DIV // 2 - 1)
        ctx.set(rx.rx, 1)
        await ctx.tick().repeat(3 * DIV)
        await _send(ctx, rx, 0x42)
    got, framing = _rx_bench(drive)
    assert got == [0x42] and framing == []


def test_a_low_stop_bit_is_a_framing_error_and_a_held_low_line_no_bytes():
    async def drive(ctx, rx):
        await _send(ctx, rx, 0x81, stop=0)
        ctx.set(rx.rx, 0)  # a break: the line stays low for 40 bit times
        await ctx.tick().repeat(40 * DIV)
        ctx.set(rx.rx, 1)
        await ctx.tick().repeat(2 * DIV)
        await _send(ctx, rx, 0x7E)
    got, framing = _rx_bench(drive)
    assert got == [0x7E] and framing == [1]


def test_the_transmitter_sends_what_the_receiver_reads():
    m = Module()
    m.submodules.tx = tx = UARTTx(DIV)
    m.submodules.rx = rx = UARTRx(DIV)
    m.d.comb += [rx.rx.eq(tx.tx), rx.o_stream.ready.eq(1)]
    sent, got = [0x00, 0x55, 0xC1, 0xFF, 0x12], []
    sim = Simulator(m)
    sim.add_clock(1e-8)

    async def producer(ctx):
        for b in sent:  # back to back: each byte offered as soon as the previous one is taken
            ctx.set(tx.i_stream.payload, b)
            ctx.set(tx.i_stream.valid, 1)
            await ctx.tick().until(tx.i_stream.ready)
        ctx.set(tx.i_stream.valid, 0)
        await ctx.tick().repeat(12 * DIV)

    async def consumer(ctx):
        async for clk_edge, rst, valid, data in ctx.tick().sample(rx.o_stream.valid, rx.o_stream.payload):
            if valid:
                got.append(data)

    sim.add_testbench(producer)
    sim.add_process(consumer)
    sim.run()
    assert got == sent
