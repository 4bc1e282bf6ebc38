"""The neuron contract on hand-worked cases (docs/contract.md), independent of any backend."""

import numpy as np
import pytest

from snn2fpga.core.contract import (
    ContractError,
    LIFParams,
    current_bits,
    default_delta,
    lif_step,
    membrane_code_bits,
    membrane_code_range,
    quantize_membrane,
    readout,
    weight_code_bits,
    weight_code_range,
)


def P(**kw):
    base = dict(threshold=10, leak_shift=None, reset="subtract", membrane="full", delta=1, acc_bits=16)
    base.update(kw)
    return LIFParams(**base)


@pytest.mark.parametrize(
    "quant, lo, hi, bits",
    [("binary", -1, 1, 1), ("ternary", -1, 1, 2), ("int2", -2, 1, 2), ("int4", -8, 7, 4), ("int8", -128, 127, 8)],
)
def test_weight_ranges(quant, lo, hi, bits):
    assert weight_code_range(quant) == (lo, hi)
    assert weight_code_bits(quant) == bits


@pytest.mark.parametrize(
    "quant, lo, hi, bits",
    [("ternary", -1, 1, 2), ("int2", -2, 1, 2), ("int8", -128, 127, 8), ("int16", -32768, 32767, 16), ("full", -512, 511, 10)],
)
def test_membrane_ranges(quant, lo, hi, bits):
    assert membrane_code_range(quant, 10) == (lo, hi)
    assert membrane_code_bits(quant, 10) == bits


@pytest.mark.parametrize("bad", ["int1", "int9", "float", "tern"])
def test_unknown_weight_quantizer_is_named(bad):
    with pytest.raises(ContractError, match=bad):
        weight_code_range(bad)


def test_leak_is_floor_shift():
    # v = 1·(−5) → −5 − floor(−5/4) = −5 − (−2) = −3; then + I = 0 → u = −3 (no spike).
    s, m = lif_step(np.array([-5]), np.array([0]), P(leak_shift=2))
    assert s.tolist() == [0] and m.tolist() == [-3]
    # v = 7 → 7 − 1 = 6; + 4 = 10 ≥ θ → spike; subtract → 0.
    s, m = lif_step(np.array([7]), np.array([4]), P(leak_shift=2))
    assert s.tolist() == [1] and m.tolist() == [0]


def test_fire_on_equal_and_resets():
    s, m = lif_step(np.array([0, 0, 0]), np.array([9, 10, 25]), P())
    assert s.tolist() == [0, 1, 1] and m.tolist() == [9, 0, 15]
    s, m = lif_step(np.array([0, 0]), np.array([10, 25]), P(reset="zero"))
    assert s.tolist() == [1, 1] and m.tolist() == [0, 0]


def test_saturation_at_accumulator_limits():
    p = P(acc_bits=6, threshold=31)  # range −32..31
    s, m = lif_step(np.array([30, -30]), np.array([100, -100]), p)
    assert s.tolist() == [1, 0] and m.tolist() == [0, -32]


def test_membrane_round_half_up_and_clamp():
    p = P(membrane="int4", delta=4, threshold=10)
    u = np.array([-2, -3, 2, 1, 6, 100, -100])
    # floor((2u + 4) / 8): −2 → 0, −3 → −1, 2 → 1, 1 → 0, 6 → 2, 100 → 25 → 7, −100 → −25 → −8
    assert quantize_membrane(u, p).tolist() == [0, -1, 1, 0, 2, 7, -8]
    t = P(membrane="ternary", delta=5, threshold=10)
    assert quantize_membrane(np.array([-3, -2, 2, 3, 40]), t).tolist() == [-1, 0, 0, 1, 1]


def test_ternary_membrane_step_dequantizes():
    p = P(membrane="ternary", delta=5, threshold=10)
    # m = 1 → v = 5; + 4 = 9 < 10 → no spike, store round(9/5) = 2 → clamp 1.
    s, m = lif_step(np.array([1]), np.array([4]), p)
    assert s.tolist() == [0] and m.tolist() == [1]


def test_default_delta():
    assert default_delta("ternary", 7) == 4
    assert default_delta("int8", 100) == 2  # 2·128 = 256 ≥ 200
    assert default_delta("int8", 64) == 1
    assert default_delta("full", 999) == 1


@pytest.mark.parametrize(
    "kw, word",
    [
        (dict(threshold=0), "threshold"),
        (dict(threshold=40000), "threshold"),
        (dict(reset="soft"), "reset"),
        (dict(leak_shift=0), "leak_shift"),
        (dict(membrane="int17"), "int17"),
        (dict(membrane="full", delta=2), "delta"),
        (dict(acc_bits=40), "acc_bits"),
        (dict(membrane="int16", delta=4), "delta"),
    ],
)
def test_bad_parameters_are_named(kw, word):
    with pytest.raises(ContractError, match=word):
        P(**kw)


def test_current_bits_worst_case():
    w = np.array([[1, 1, 1], [-1, -1, 0]])
    assert current_bits(w, np.zeros(2, int)) == 3  # −2..3 needs 3 bits
    assert current_bits(np.array([[127] * 4]), np.zeros(1, int)) == 10  # 508


def test_readout_ties_to_lowest():
    assert readout(np.array([[3, 5, 5], [0, 0, 0]])).tolist() == [1, 0]
