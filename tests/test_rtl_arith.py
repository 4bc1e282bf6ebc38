"""rtl.arith: constant multiplication as shifts and adds, exact for every input of its width."""

from __future__ import annotations

import pytest
from amaranth import Module, Signal, signed, unsigned
from amaranth.sim import Simulator

from snn2fpga.rtl.arith import csd_digits, divmod_const, times_const


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 7, 10, 11, 23, 64, 255, 683, 43691])
def test_csd_digits_sum_to_k_without_adjacent_digits(k):
    digits = csd_digits(k)
    assert sum(d << s for s, d in digits) == k
    shifts = [s for s, _ in digits]
    assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:]))


@pytest.mark.parametrize(("shape", "k"), [(signed(2), 5), (signed(4), -7), (unsigned(5), 10), (signed(9), 683), (unsigned(3), 0)])
def test_times_const_is_exact_in_simulation(shape, k):
    x = Signal(shape)
    y = Signal(signed(32))
    m = Module()
    m.d.comb += y.eq(times_const(x, k))
    lo, hi = (-(1 << (shape.width - 1)), 1 << (shape.width - 1)) if shape.signed else (0, 1 << shape.width)
    seen = []

    async def bench(ctx):
        for v in range(lo, hi):
            ctx.set(x, v)
            seen.append((v, ctx.get(y)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(v, v * k) for v in range(lo, hi)]


def test_no_multiplier_cell_in_the_lif_lane():
    """The neuron lane with Δ = 5 (not a power of two) elaborates to no $mul cell."""
    from amaranth.back import rtlil

    from snn2fpga.rtl.neuron import LIFUpdate
    from snn2fpga.core.contract import LIFParams

    text = rtlil.convert(LIFUpdate(LIFParams(10, 2, "subtract", "int8", 5, 16), 9))
    assert "$mul" not in text


@pytest.mark.parametrize(("divisor", "x_max"), [(1, 9), (2, 17), (3, 40), (5, 99), (6, 71), (7, 300), (12, 143), (34, 2311)])
def test_divmod_const_is_exact_for_every_input(divisor, x_max):
    """x // d and x % d by multiply-and-shift (the conv and pool address split), for every 0 ≤ x ≤ x_max."""
    x = Signal(range(x_max + 1))
    q, r = Signal(32), Signal(32)
    m = Module()
    quotient, remainder = divmod_const(x, divisor, x_max)
    m.d.comb += [q.eq(quotient), r.eq(remainder)]
    seen = []

    async def bench(ctx):
        for v in range(x_max + 1):
            ctx.set(x, v)
            seen.append((ctx.get(q), ctx.get(r)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [divmod(v, divisor) for v in range(x_max + 1)]
