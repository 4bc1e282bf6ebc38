"""The per-lane neuron datapath (rtl/neuron.py) against `contract.lif_step`, value by value."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from snn2fpga.rtl.neuron import LIFUpdate, reciprocal
from snn2fpga.core.contract import LIFParams, current_bits, default_delta, lif_step, membrane_code_range


def _params(membrane, threshold, acc_bits, leak, reset, delta=None):
    delta = default_delta(membrane, threshold) if delta is None else delta
    return LIFParams(threshold, leak, reset, membrane, delta, acc_bits)


def _check_grid(dut: LIFUpdate, lif: LIFParams, codes: np.ndarray, currents: np.ndarray) -> None:
    """Every (code, current) pair through the lane in simulation equals `lif_step`."""
    m_grid, i_grid = np.meshgrid(codes, currents, indexing="ij")
    want_s, want_m = lif_step(m_grid.ravel(), i_grid.ravel(), lif)
    got_s, got_m = [], []

    async def bench(ctx):
        for mv, iv in zip(m_grid.ravel(), i_grid.ravel()):
            ctx.set(dut.m, int(mv))
            ctx.set(dut.current, int(iv))
            got_s.append(ctx.get(dut.spike))
            got_m.append(ctx.get(dut.m_next))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_array_equal(np.array(got_s), want_s)
    np.testing.assert_array_equal(np.array(got_m), want_m)


CASES = [
    _params("ternary", 3, 8, 2, "subtract"),
    _params("ternary", 1, 6, None, "zero"),
    _params("ternary", 31, 6, 1, "subtract"),  # θ = 2^(A−1) − 1
    _params("int2", 5, 8, 3, "zero"),
    _params("int3", 7, 8, None, "subtract"),
    _params("int4", 9, 10, 2, "subtract"),
    _params("int5", 13, 10, 1, "zero"),  # multiply-and-shift from here on
    _params("int8", 21, 12, 4, "subtract"),
    _params("int8", 100, 10, 2, "subtract", delta=2),  # codes clamp before A saturates
    _params("int12", 5, 16, 3, "zero"),
    _params("int16", 3, 20, 5, "subtract", delta=1),
    _params("full", 17, 8, 2, "subtract"),
    _params("full", 127, 8, None, "zero"),
]


@pytest.mark.parametrize("lif", CASES, ids=lambda p: f"{p.membrane}-th{p.threshold}-A{p.acc_bits}-k{p.leak_shift}-{p.reset}")
def test_lif_update_matches_contract(lif):
    rng = np.random.default_rng(lif.threshold)
    lo, hi = membrane_code_range(lif.membrane, lif.acc_bits)
    codes = np.unique(np.concatenate([[lo, hi, 0, -1, 1], rng.integers(lo, hi + 1, 40)]))
    codes = codes[(codes >= lo) & (codes <= hi)]
    # currents reaching past both accumulator limits, so sat_A is exercised
    reach = 2 ** lif.acc_bits
    currents = np.unique(np.concatenate([[-reach, reach, 0, lif.threshold, -lif.threshold], rng.integers(-reach, reach + 1, 40)]))
    cbits = current_bits(np.array([[reach]]), np.array([0])) + 1
    dut = LIFUpdate(lif, cbits)
    _check_grid(dut, lif, codes, currents)


@pytest.mark.parametrize("divisor", [2, 3, 6, 10, 14, 22, 254, 1000, 2**15, 65537])
def test_reciprocal_is_exact(divisor):
    x_max = 1 << 20
    mult, shift = reciprocal(divisor, x_max)
    x = np.arange(0, x_max + 1, dtype=object)[:: max(1, x_max // 200_000)]
    x = np.concatenate([x, np.arange(x_max - 5000, x_max + 1, dtype=object)])
    assert all((xi * mult) >> shift == xi // divisor for xi in x)


NARROW = [
    _params("ternary", 10, 16, 2, "subtract"),  # the default model's layer 0
    _params("ternary", 3, 16, None, "zero"),
    _params("int4", 9, 16, 1, "subtract"),
    _params("int8", 21, 16, 3, "zero"),
    _params("full", 17, 12, 2, "subtract"),  # full: m spans A bits, so never narrowed
]


@pytest.mark.parametrize("lif", NARROW, ids=lambda p: f"{p.membrane}-th{p.threshold}-A{p.acc_bits}-{p.reset}")
def test_narrowed_datapath_is_exact_over_every_code_and_current(lif):
    """Where v + I cannot leave the A-bit range, u is narrowed (no sat_A logic): every stored
    code against every current of the port's width, the extremes included, equals lif_step."""
    cbits = 7
    dut = LIFUpdate(lif, cbits)
    narrowed = dut.unsaturated_bits()
    assert (narrowed is None) == (lif.membrane == "full")
    if narrowed is not None:
        lo, hi = membrane_code_range(lif.membrane, lif.acc_bits)
        assert narrowed < lif.acc_bits and 2 ** (narrowed - 1) > hi * lif.delta + 2 ** (cbits - 1) - 1
    lo, hi = membrane_code_range(lif.membrane, lif.acc_bits)
    codes = np.arange(lo, hi + 1) if hi - lo < 300 else np.array([lo, lo + 1, -1, 0, 1, hi - 1, hi])
    currents = np.arange(-(2 ** (cbits - 1)), 2 ** (cbits - 1))
    _check_grid(dut, lif, codes, currents)
