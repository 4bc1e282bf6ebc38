"""The pool unit: spiking max-pool (OR over k×k windows, stride k) on an AER stream (DESIGN §7).

An input address c·H·W + y·W + x maps to the output c·H_o·W_o + (y//k)·W_o + (x//k); an input in
a dropped remainder row or column (y ≥ H_o·k or x ≥ W_o·k) maps to nothing. A bitmap of the
step's outputs (one bit per output, in words of B bits) drops repeats, so each output leaves at
most once a step.

ACC    one input word a cycle: read the bitmap word of its output (the cycle it is accepted),
       test and set the bit the cycle after (the read port is transparent to that write, so a
       repeat in the next word is seen), and append a new output's address to the spike buffer.
EMIT   as a layer core (rtl/emit.py): the buffered addresses, then eos, one a cycle. Each word on
       the output also writes 0 to its bitmap word: every set bit belongs to a buffered address,
       so the bitmap is clear when the eos word leaves, at no cycle of its own.
CLEAR  after reset or `clear`: D = ⌈N_out/B⌉ cycles writing 0 into every bitmap word, `clearing` high.

A step costs the pool s cycles for s input words, 2 more to its first output word
(rtl/cycle_model.py: POOL_OVERHEAD), then its k words at the consumer's pace: the same phases as
a layer core, with no sweep.
"""

from __future__ import annotations

from amaranth import Const, Module, Signal, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from snn2fpga.core.golden import PoolLayer
from snn2fpga.rtl.aer import addr_bits, aer_signature
from snn2fpga.rtl.arith import divmod_const, times_const
from snn2fpga.rtl.cycle_model import bitmap_word_bits
from snn2fpga.rtl.emit import SpikeBufferRegs, drive_output, emit_words

class PoolUnit(wiring.Component):
    """OR-pool with repeat dropping: AER words in (`i_stream`), AER words out (`o_stream`).

    Input: a step's addresses (< N_in, each at most once) in any order, then eos. Output: the
    addresses of the outputs hit, each once, in the order first hit, then eos.
    `clearing` is high while the bitmap is cleared."""

    kind = "pool"

    def __init__(self, layer: PoolLayer):
        self._layer = layer
        self._word = bitmap_word_bits(layer.n_out)
        self._rows = -(-layer.n_out // self._word)
        super().__init__({
            "i_stream": In(aer_signature(layer.n_in)),
            "o_stream": Out(aer_signature(layer.n_out)),
            "clearing": Out(1, init=1),
        })
        self.bitmap = memory.Memory(shape=unsigned(self._word), depth=max(self._rows, 2), init=[])
        self.spike_buffer = memory.Memory(shape=unsigned(addr_bits(layer.n_out)), depth=max(layer.n_out, 2), init=[])

    @property
    def layer(self) -> PoolLayer:
        return self._layer

    @property
    def rows(self) -> int:
        """D: bitmap words (the clearing sweep's cycles)."""
        return self._rows

    @property
    def word_bits(self) -> int:
        return self._word

    def memories(self) -> dict[str, memory.Memory]:
        return {"bitmap": self.bitmap, "spike_buffer": self.spike_buffer}

    def elaborate(self, platform):
        m = Module()
        m.submodules.bitmap = self.bitmap
        m.submodules.spike_buffer = self.spike_buffer
        layer, word_bits = self._layer, (self._word - 1).bit_length()
        p = SpikeBufferRegs(self.spike_buffer, layer.n_out)
        bm_wr = self.bitmap.write_port()
        bm_rd = self.bitmap.read_port(transparent_for=(bm_wr,))
        (_, h, w), out = layer.in_shape.to_list(), layer.out_shape
        k = layer.k

        # the output of the word on the input (combinational), and stage 1 registers
        rest, x = divmod_const(self.i_stream.payload.addr, w, layer.n_in - 1)
        chan, y = divmod_const(rest, h, layer.in_shape.channels * h - 1)
        oy, _ = divmod_const(y, k, h - 1)
        ox, _ = divmod_const(x, k, w - 1)
        target = Signal(range(max(layer.n_out, 2)))
        inside = Signal()
        m.d.comb += [
            target.eq(times_const(chan, out.height * out.width) + times_const(oy, out.width) + ox),
            inside.eq((y < out.height * k) & (x < out.width * k)),
        ]
        s1_valid = Signal()
        s1_target = Signal.like(target)
        clear_row = Signal(range(max(self._rows, 2)))

        def word_of(a):
            return a[word_bits:] if word_bits else a

        def bit_of(a):
            return a[:word_bits] if word_bits else 0

        with m.FSM(init="CLEAR"):
            with m.State("CLEAR"):
                m.d.comb += [bm_wr.addr.eq(clear_row), bm_wr.data.eq(0), bm_wr.en.eq(1)]
                m.d.sync += clear_row.eq(clear_row + 1)
                with m.If(clear_row == self._rows - 1):
                    m.d.sync += [clear_row.eq(0), self.clearing.eq(0)]
                    m.next = "ACC"
            with m.State("ACC"):
                accept = self.i_stream.valid & ~self.i_stream.payload.eos
                m.d.comb += [self.i_stream.ready.eq(1), bm_rd.addr.eq(word_of(target)), bm_rd.en.eq(accept)]
                m.d.sync += [s1_valid.eq(accept & inside), s1_target.eq(target)]
                fresh = s1_valid & ~bm_rd.data.bit_select(bit_of(s1_target), 1)
                with m.If(fresh):
                    m.d.comb += [
                        bm_wr.addr.eq(word_of(s1_target)),
                        bm_wr.data.eq(bm_rd.data | (Const(1, self._word) << bit_of(s1_target))),
                        bm_wr.en.eq(1),
                        p.buf_wr.addr.eq(p.wr_ptr),
                        p.buf_wr.data.eq(s1_target),
                        p.buf_wr.en.eq(1),
                    ]
                    m.d.sync += p.wr_ptr.eq(p.wr_ptr + 1)
                with m.If(self.i_stream.valid & self.i_stream.payload.eos):
                    m.next = "EMIT"
            with m.State("EMIT"):
                emit_words(m, self.o_stream, p)
                # clear by replay: the bitmap word of each address on the output
                with m.If(p.o_valid & ~p.o_eos):
                    m.d.comb += [bm_wr.addr.eq(word_of(self.o_stream.payload.addr)), bm_wr.data.eq(0), bm_wr.en.eq(1)]
        drive_output(m, self.o_stream, p)
        return m
