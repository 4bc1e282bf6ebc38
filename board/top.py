"""The board top: UART in → framing decoder → the generated datapath → answers → UART out.

`BoardCore` is the whole design with two pins (`rx`, `tx`) and two status lines; it is what
the Verilator simulation runs and what `BoardTop` places on a board (pins from the board's
amaranth-boards platform). The framing is board/protocol.py's. Received bytes wait in a
FIFO (`fifo_depth`, sized by board.budget so that a host sending at line rate never
overruns it); the decoder takes them one at a time and holds a word until the datapath
accepts it (back-pressure from the datapath fills the FIFO, never drops a word). A RESET
waits until the previous sample's RESULT has left, then clears the datapath and answers
READY. Every byte sequence leaves the decoder in a state that a RESET byte ends.
"""


from amaranth.build import ResourceError
from amaranth.hdl import Array, ClockDomain, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from snn2fpga.board import protocol as proto
from snn2fpga.board.budget import fifo_budget
from snn2fpga.board.uart import UARTRx, UARTTx
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.rtl.point import DesignPoint
from snn2fpga.rtl.top import SNNTop

BOARD_TOP = "snn_board"  # the Verilog module name of BoardCore


class BoardCore(wiring.Component):
    """The datapath of `network` (T = steps, P = lanes, Q = units) behind a UART at `divisor`
    clock cycles per bit; `error` is high while any flag is set, `busy` while a sample runs."""

    rx: In(1, init=1)
    tx: Out(1, init=1)
    error: Out(1)
    busy: Out(1)

    def __init__(self, network: GoldenNetwork, steps: int, lanes: int, units: int | None, divisor: int, fifo_depth: int):
        proto.check_network(network.n_in, network.layers[-1].n_out, steps)
        self.snn = SNNTop(network, steps, lanes, units)
        self._divisor = divisor
        self._fifo_depth = fifo_depth
        super().__init__()

    @property
    def fifo_depth(self) -> int:
        return self._fifo_depth

    def elaborate(self, platform):
        m = Module()
        snn = self.snn
        m.submodules.snn = snn
        m.submodules.uart_rx = rxu = UARTRx(self._divisor)
        m.submodules.uart_tx = txu = UARTTx(self._divisor)
        m.submodules.rx_fifo = fifo = SyncFIFOBuffered(width=8, depth=self._fifo_depth)
        m.d.comb += [
            rxu.rx.eq(self.rx),
            self.tx.eq(txu.tx),
            fifo.w_data.eq(rxu.o_stream.payload),
            fifo.w_en.eq(rxu.o_stream.valid),
            rxu.o_stream.ready.eq(fifo.w_rdy),
            snn.o_stream.ready.eq(1),  # the counters count what leaves o_stream: always taken
        ]
        steps, n_in = snn.steps, snn.network.n_in
        flags = Signal(4)
        new_flags = Signal(4)  # raised this cycle
        clear_flags = Signal()
        m.d.comb += [new_flags[0].eq(rxu.framing), new_flags[3].eq(rxu.overrun)]
        eos_seen = Signal(range(steps + 1))
        sent = Signal()  # the RESULT of this sample has left
        ready_req = Signal()  # a READY to send
        tx_busy = Signal()
        hi = Signal(6)
        addr = Signal(proto.ADDR_BITS)
        byte = fifo.r_data
        m.d.comb += [self.error.eq(flags != 0), self.busy.eq((eos_seen != 0) & ~sent)]

        with m.FSM(name="decode"):
            with m.State("CMD"):
                with m.If(fifo.r_rdy):
                    with m.If(byte == proto.RESET):
                        m.next = "RESET"  # the byte stays in the FIFO until the reset can happen
                    with m.Else():
                        m.d.comb += fifo.r_en.eq(1)
                        with m.If(byte[6:8] == 0b10):
                            m.d.sync += hi.eq(byte[:6])
                            m.next = "LOW"
                        with m.Elif((byte == proto.EOS) & (eos_seen != steps)):
                            m.next = "EOS"
                        with m.Else():  # a data byte, an unknown command, or EOS after the T-th
                            m.d.comb += new_flags[1].eq(1)
            with m.State("LOW"):
                with m.If(fifo.r_rdy):
                    with m.If(byte[7]):  # a command where the address byte belongs: take it as a command
                        m.d.comb += new_flags[1].eq(1)
                        m.next = "CMD"
                    with m.Else():
                        m.d.comb += fifo.r_en.eq(1)
                        full = Signal(proto.ADDR_BITS)
                        m.d.comb += full.eq((hi << 7) | byte[:7])
                        m.d.sync += addr.eq(full)
                        m.next = "CMD"
                        with m.If(full >= n_in):
                            m.d.comb += new_flags[2].eq(1)
                        with m.Elif(eos_seen == steps):
                            m.d.comb += new_flags[1].eq(1)
                        with m.Else():
                            m.next = "SPIKE"
            with m.State("SPIKE"):
                m.d.comb += [snn.i_stream.valid.eq(1), snn.i_stream.payload.addr.eq(addr)]
                with m.If(snn.i_stream.ready):
                    m.next = "CMD"
            with m.State("EOS"):
                m.d.comb += [snn.i_stream.valid.eq(1), snn.i_stream.payload.eos.eq(1)]
                with m.If(snn.i_stream.ready):
                    m.d.sync += eos_seen.eq(eos_seen + 1)
                    m.next = "CMD"
            with m.State("RESET"):  # wait for the previous RESULT (if its sample was complete) and READY to leave
                with m.If(~tx_busy & ~ready_req & ((eos_seen != steps) | sent)):
                    m.d.comb += [fifo.r_en.eq(1), snn.clear.eq(1), clear_flags.eq(1)]
                    m.d.sync += [eos_seen.eq(0), sent.eq(0)]
                    m.next = "CLEARING"
            with m.State("CLEARING"):
                with m.If(~snn.clearing):
                    m.d.sync += ready_req.eq(1)
                    m.next = "CMD"
        m.d.sync += flags.eq(Mux(clear_flags, 0, flags) | new_flags)  # sticky until a RESET
        self._answer(m, txu, flags, eos_seen, sent, ready_req, tx_busy)
        return m

    def _answer(self, m: Module, txu: UARTTx, flags, eos_seen, sent, ready_req, tx_busy) -> None:
        """READY after each clear; RESULT (header, label, counts) once the datapath is done.

        The label is the argmax of the counts, ties to the lowest class, as SNNTop's `label`; it
        is found here one class a cycle (C cycles per sample) instead of read from that port,
        whose one-cycle comparator chain limited a small FPGA's clock (iCE40UP5K: 11.7 MHz)."""
        snn = self.snn
        n_classes = len(snn.counts)
        counts = Array(snn.counts[i] for i in range(n_classes))
        index = Signal(range(n_classes + 1))
        label = Signal(range(max(n_classes, 2)))
        best = Signal.like(snn.counts[0])
        with m.FSM(name="answer"):
            with m.State("IDLE"):
                with m.If(ready_req):
                    m.next = "READY"
                with m.Elif(snn.done & (eos_seen == snn.steps) & ~sent):
                    m.d.sync += [index.eq(1), label.eq(0), best.eq(snn.counts[0])]
                    m.next = "ARGMAX"
            with m.State("READY"):
                m.d.comb += [tx_busy.eq(1), txu.i_stream.valid.eq(1), txu.i_stream.payload.eq(proto.READY)]
                with m.If(txu.i_stream.ready):
                    m.d.sync += ready_req.eq(0)
                    m.next = "IDLE"
            with m.State("ARGMAX"):
                m.d.comb += tx_busy.eq(1)
                with m.If(index == n_classes):
                    m.d.sync += index.eq(0)
                    m.next = "HEADER"
                with m.Else():
                    with m.If(counts[index] > best):
                        m.d.sync += [best.eq(counts[index]), label.eq(index)]
                    m.d.sync += index.eq(index + 1)
            with m.State("HEADER"):
                m.d.comb += [tx_busy.eq(1), txu.i_stream.valid.eq(1), txu.i_stream.payload.eq(proto.RESULT | flags)]
                with m.If(txu.i_stream.ready):
                    m.next = "LABEL"
            with m.State("LABEL"):
                m.d.comb += [tx_busy.eq(1), txu.i_stream.valid.eq(1), txu.i_stream.payload.eq(label)]
                with m.If(txu.i_stream.ready):
                    m.next = "COUNTS"
            with m.State("COUNTS"):
                m.d.comb += [tx_busy.eq(1), txu.i_stream.valid.eq(1), txu.i_stream.payload.eq(counts[index])]
                with m.If(txu.i_stream.ready):
                    m.d.sync += index.eq(index + 1)
                    with m.If(index == n_classes - 1):
                        m.d.sync += sent.eq(1)
                        m.next = "IDLE"


def board_core(network: GoldenNetwork, steps: int, point: DesignPoint, divisor: int) -> BoardCore:
    """The board top's logic at `divisor` clock cycles a bit, its FIFO sized by board.budget."""
    depth = fifo_budget(network, steps, point.lanes, point.units, divisor).depth
    return BoardCore(network, steps, point.lanes, point.units, divisor, depth)


class BoardTop(wiring.Component):
    """`BoardCore` on a board: its UART pins, the error flag on LED 0 and `busy` on LED 1
    where the board has them (amaranth-boards resources).

    The `sync` domain is made here, not by the platform: Amaranth's ECP5 platform makes a
    reset-less one (it resets through the GSR), and the datapath needs `rst` (docs/rtl.md).
    A power-on counter holds `rst` for POR_CYCLES after configuration."""

    POR_CYCLES = 15

    def __init__(self, core: BoardCore):
        self.core = core
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        clk = platform.request(platform.default_clk, 0)
        m.domains.sync = sync = ClockDomain("sync")
        m.domains.por = por = ClockDomain("por", reset_less=True)
        count = Signal(range(self.POR_CYCLES + 1), init=self.POR_CYCLES)
        m.d.comb += [sync.clk.eq(clk.i), por.clk.eq(clk.i), sync.rst.eq(count != 0)]
        with m.If(count != 0):
            m.d.por += count.eq(count - 1)
        uart = platform.request("uart", 0)
        m.d.comb += [core.rx.eq(uart.rx.i), uart.tx.o.eq(core.tx)]
        for index, line in enumerate((core.error, core.busy)):
            try:
                led = platform.request("led", index)
            except ResourceError:  # a board with fewer LEDs: the line stays internal
                continue
            m.d.comb += led.o.eq(line)
        return m
