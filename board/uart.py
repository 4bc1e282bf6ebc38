"""8N1 UART receiver and transmitter in Amaranth.

Written here because Amaranth's standard library has no UART (amaranth.lib has streams,
FIFOs, CDC and memories, not serial ports) and the board top must stay one Amaranth design
that both the bitstream and the Verilator simulation come from. `divisor` is clock cycles
per bit (clk / baud, rounded: `divisor_for`).
"""


from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

MAX_BAUD_ERROR = 0.02  # a byte's ten bits must stay within half a bit of the sender's: 2 % keeps 5 % margin



def checked_divisor(divisor: int) -> int:
    """Clock cycles per bit, refused below 4 (the receiver samples mid-bit and needs the room)."""
    if divisor < 4:
        raise BaudError(f"divisor {divisor}: at least 4 cycles a bit")
    return divisor

class BaudError(ValueError):
    """The clock cannot make the asked baud rate closely enough, or gives fewer than 4 cycles a bit."""


def divisor_for(clk_hz: float, baud: int) -> int:
    """Clock cycles per bit for `baud` at `clk_hz`; refuse a rate that is off by more than 2 %."""
    divisor = round(clk_hz / baud)
    if divisor < 4:
        raise BaudError(f"baud {baud} is too fast for a {clk_hz / 1e6:g} MHz clock: {clk_hz / baud:.2f} cycles a bit, at least 4 needed")
    error = abs(clk_hz / divisor - baud) / baud
    if error > MAX_BAUD_ERROR:
        raise BaudError(f"baud {baud} is {error:.1%} off at {clk_hz / 1e6:g} MHz (cycles a bit {divisor}); choose a rate that divides the clock")
    return divisor


class UARTRx(wiring.Component):
    """`rx` pin → bytes. `o_stream.valid` pulses one cycle per byte (no back-pressure: the line
    does not wait); `overrun` pulses when that byte is not taken, `framing` when its stop bit was
    low. After a low stop bit (garbage, a wrong baud rate, a break) the receiver waits for the
    line to go high before it looks for the next start bit, so it never reads a held-low line as
    a stream of zero bytes."""

    rx: In(1, init=1)
    o_stream: Out(stream.Signature(8, always_ready=False))
    framing: Out(1)
    overrun: Out(1)

    def __init__(self, divisor: int):
        self._divisor = checked_divisor(divisor)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        div = self._divisor
        line = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(div + div // 2 + 1))
        bits = Signal(range(9))
        shift = Signal(8)
        m.d.comb += self.o_stream.payload.eq(shift)
        with m.FSM(name="rx"):
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(div // 2 - 1)
                    m.next = "START"
            with m.State("START"):  # the middle of the start bit: still low, or it was a glitch
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(line):
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [timer.eq(div - 1), bits.eq(0)]
                        m.next = "DATA"
            with m.State("DATA"):  # sample each bit in its middle, LSB first
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), bits.eq(bits + 1), timer.eq(div - 1)]
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(line):
                        m.d.comb += [self.o_stream.valid.eq(1), self.overrun.eq(~self.o_stream.ready)]
                        m.next = "IDLE"
                    with m.Else():
                        m.d.comb += self.framing.eq(1)
                        m.next = "BREAK"
            with m.State("BREAK"):  # wait for the line to be idle (high) again
                with m.If(line):
                    m.next = "IDLE"
        return m


class UARTTx(wiring.Component):
    """Bytes → `tx` pin: start bit, 8 data bits LSB first, stop bit; `i_stream.ready` when idle."""

    i_stream: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int):
        self._divisor = checked_divisor(divisor)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self._divisor))
        frame = Signal(10, init=0x3FF)  # stop bit, data, start bit: shifted out LSB first
        left = Signal(range(11))
        m.d.comb += [self.tx.eq(frame[0]), self.i_stream.ready.eq(left == 0)]
        with m.If(left == 0):
            with m.If(self.i_stream.valid):
                m.d.sync += [frame.eq(Cat(0, self.i_stream.payload, 1)), left.eq(10), timer.eq(self._divisor - 1)]
        with m.Elif(timer == 0):
            m.d.sync += [frame.eq(Cat(frame[1:], 1)), left.eq(left - 1), timer.eq(self._divisor - 1)]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
        return m
