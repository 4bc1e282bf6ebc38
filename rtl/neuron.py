"""One lane of the neuron update: the contract's steps 2–7 (docs/contract.md), combinational.

`LIFUpdate` takes a stored membrane code and the step's current and gives the spike and
the new code. The layer core instantiates P of them, one per lane.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from snn2fpga.rtl.arith import ceil_div, reciprocal, times_const  # reciprocal: re-exported for its tests
from snn2fpga.core.contract import LIFParams, membrane_code_bits, membrane_code_range, signed_bits

# Quantizers with at most this many codes compare against constants (a thermometer);
# wider ones divide by 2Δ with an exact multiply-and-shift (a constant multiply: shifts and adds).
_MAX_THERMOMETER_CODES = 16


class LIFUpdate(wiring.Component):
    """dequantize → leak → integrate (sat_A) → fire (≥ θ) → reset → quantize, for one neuron.

    Ports: `m` the stored code (signed, its quantized width), `current` the step's
    current I = W·s + b (signed, `current_bits` wide); `spike` and `m_next` out.
    """

    def __init__(self, lif: LIFParams, current_bits: int):
        self._lif = lif
        self._mbits = membrane_code_bits(lif.membrane, lif.acc_bits)
        super().__init__(
            {
                "m": In(signed(self._mbits)),
                "current": In(signed(current_bits)),
                "spike": Out(1),
                "m_next": Out(signed(self._mbits)),
            }
        )

    @property
    def lif(self) -> LIFParams:
        return self._lif

    def elaborate(self, platform):
        m = Module()
        p = self._lif
        amax, amin = 2 ** (p.acc_bits - 1) - 1, -(2 ** (p.acc_bits - 1))
        wide = signed(p.acc_bits + 2)  # holds Δ·m (≤ 2^(A−1)) and its leak

        v = Signal(wide)  # dequantized, then leaked
        m.d.comb += v.eq(times_const(self.m, p.delta))
        if p.leak_shift is not None:
            leaked = Signal(wide)
            m.d.comb += leaked.eq(v - (v >> p.leak_shift))
            v = leaked
        total = Signal(signed(max(wide.width, self.current.shape().width) + 1))
        m.d.comb += total.eq(v + self.current)
        reach = self.unsaturated_bits()
        if reach is None:  # sat_A can act: clamp to the A-bit range
            u = Signal(signed(p.acc_bits))
            m.d.comb += u.eq(Mux(total > amax, amax, Mux(total < amin, amin, total)))
        else:  # v + I never leaves the A-bit range: sat_A is the identity, and u needs fewer bits
            u = Signal(signed(reach))
            m.d.comb += u.eq(total)
        m.d.comb += self.spike.eq(u >= p.threshold)
        r = Signal(u.shape())  # after the reset (subtract: u ≥ θ, so r stays within u's range)
        if p.reset == "subtract":
            m.d.comb += r.eq(Mux(self.spike, u - p.threshold, u))
        else:
            m.d.comb += r.eq(Mux(self.spike, 0, u))
        m.d.comb += self.m_next.eq(self._quantize(r))
        return m

    def unsaturated_bits(self) -> int | None:
        """Bits of v + I when it provably stays inside the A-bit range (so sat_A never acts), else None.

        |v| ≤ Δ·max|m| (the leak only shrinks it) and I is a `current_bits` value. Narrowing
        u to this width is exact; it saves LUTs and carry chains in every lane.
        """
        p = self._lif
        lo, hi = membrane_code_range(p.membrane, p.acc_bits)
        ibits = self.current.shape().width
        umin = lo * p.delta - 2 ** (ibits - 1)
        umax = hi * p.delta + 2 ** (ibits - 1) - 1
        if umin < -(2 ** (p.acc_bits - 1)) or umax > 2 ** (p.acc_bits - 1) - 1:
            return None
        bits = signed_bits(umin, umax)
        return bits if bits < p.acc_bits else None

    def _quantize(self, r):
        """m = clamp(floor((2r + Δ) / (2Δ))) for r in the A-bit range."""
        p = self._lif
        if p.membrane == "full":
            return r
        lo, hi = membrane_code_range(p.membrane, p.acc_bits)
        d = p.delta
        if hi - lo + 1 <= _MAX_THERMOMETER_CODES:
            # m ≥ c  ⇔  2r ≥ (2c − 1)·Δ ; m = lo + the number of such c in (lo, hi]
            code = lo
            for c in range(lo + 1, hi + 1):
                code = code + ((r << 1) >= (2 * c - 1) * d)
            return code
        # clamp r to where the code is strictly inside [lo, hi], then x = 2r + Δ − 2Δ·lo ≥ 0
        r_lo = ceil_div((2 * lo + 1) * d, 2) - 1  # the last r that rounds to lo
        r_hi = ceil_div((2 * hi - 1) * d, 2)  # the first r that rounds to hi
        rc = Mux(r < r_lo, r_lo, Mux(r > r_hi, r_hi, r))
        x_max = 2 * r_hi + d - 2 * d * lo
        mult, shift = reciprocal(2 * d, x_max)
        x = ((rc << 1) + (d - 2 * d * lo)).as_unsigned()
        return (times_const(x, mult) >> shift) + lo
