"""EMIT: a step's buffered spike addresses, then the eos word, out on an AER stream (shared by
the layer cores and the pool unit, so every producer paces its consumer the same way)."""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import memory


class SpikeBufferRegs:
    """The spike buffer's ports and the registers of its output side, made inside elaborate()."""

    def __init__(self, buffer: memory.Memory, n: int):
        self.buf_wr = buffer.write_port()
        self.buf_rd = buffer.read_port()
        self.wr_ptr = Signal(range(n + 1))
        self.rd_ptr = Signal(range(n + 1))
        self.o_valid = Signal()
        self.o_eos = Signal()
        self.eos_loaded = Signal()


def drive_output(m: Module, o_stream, p: SpikeBufferRegs) -> None:
    """o_stream from the output registers: a registered valid, the buffer's read data as address."""
    m.d.comb += [
        o_stream.valid.eq(p.o_valid),
        o_stream.payload.eos.eq(p.o_eos),
        o_stream.payload.addr.eq(Mux(p.o_eos, 0, p.buf_rd.data)),
    ]


def emit_words(m: Module, o_stream, p: SpikeBufferRegs, after: str = "ACC") -> None:
    """The buffered addresses, then eos, one word a cycle as the consumer allows; then state `after`."""
    load = ~p.o_valid | o_stream.ready
    more = p.rd_ptr != p.wr_ptr
    m.d.comb += [
        p.buf_rd.addr.eq(p.rd_ptr),
        p.buf_rd.en.eq(load & more),
    ]
    with m.If(load):
        with m.If(more):
            m.d.sync += [p.rd_ptr.eq(p.rd_ptr + 1), p.o_valid.eq(1), p.o_eos.eq(0)]
        with m.Elif(~p.eos_loaded):
            m.d.sync += [p.o_valid.eq(1), p.o_eos.eq(1), p.eos_loaded.eq(1)]
        with m.Else():  # the eos word has left
            m.d.sync += [p.o_valid.eq(0), p.o_eos.eq(0), p.eos_loaded.eq(0), p.rd_ptr.eq(0), p.wr_ptr.eq(0)]
            m.next = after
